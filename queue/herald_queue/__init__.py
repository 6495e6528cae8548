"""Herald's delivery side: rq jobs, MX resolution, SMTP delivery, retries, capture inbox."""
