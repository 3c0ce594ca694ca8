"""innovations domain."""
