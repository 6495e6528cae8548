"""Key material: API key tokens, password-grade hashing, encryption of secrets at rest."""
