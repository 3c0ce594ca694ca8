"""API keys domain: credentials of government systems, shown once, stored hashed."""
