"""Retention: old message sources, events, attempts, webhook deliveries, captured mail and
hour stats counters are pruned in small batches, by the workers every
``HERALD_RETENTION_INTERVAL`` and by ``herald prune`` (see
:mod:`herald_service.core.retention` for the ages)."""
