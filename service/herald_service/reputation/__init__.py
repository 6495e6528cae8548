"""The reputation guard: rolling bounce and complaint rates per sending domain, warnings,
automatic pause, resume, and destination cool-downs after bursts of policy blocks."""
