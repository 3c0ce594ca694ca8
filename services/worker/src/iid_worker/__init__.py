"""IID background worker (arq)."""
