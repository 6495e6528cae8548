"""Use cases shared by the HTTP API and the CLI; each takes an open database session."""
