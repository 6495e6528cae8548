"""Sending IPs and their pools: ``/v1/ip-pools``, ``herald ip-pools``, warm-up."""
