"""Load tests and the peer benchmark (Herald vs Postfix + OpenDKIM), loopback only."""
