"""Herald: a self-hosted transactional email service (API and send path)."""

__version__ = "0.1.0"
