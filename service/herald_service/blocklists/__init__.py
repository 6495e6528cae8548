"""Blocklist (DNSBL) monitoring of the sending IPs: the checks, their events and views."""
