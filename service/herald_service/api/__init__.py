"""The HTTP API (Litestar): thin controllers over :mod:`herald_service.services`."""
