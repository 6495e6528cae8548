"""Stats: counts and rates per day, hour, sending domain or tag, read from the counters
the event writes keep (see :mod:`herald_service.core.stats`)."""
