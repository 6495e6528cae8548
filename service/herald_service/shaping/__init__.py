"""Traffic shaping: per-destination budgets shared in Redis, halved on "slow down" replies,
and the queue's view per destination (``GET /v1/queue/destinations``)."""
