"""The web console: operator users, sign-in, and server-rendered pages under ``/console``."""
