"""Mail-specific adapters: DKIM keys and signatures."""
