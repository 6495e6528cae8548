"""Test support: real Redis and databases, Herald configured against the simulated internet."""
