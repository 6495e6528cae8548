"""The workers' resolver: built by :mod:`herald_service.dns`, shared with the API."""

from __future__ import annotations

from herald_service.dns import make_resolver

__all__ = ["make_resolver"]
