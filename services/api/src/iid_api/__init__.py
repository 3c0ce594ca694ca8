"""IID service REST API."""
