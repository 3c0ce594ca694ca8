"""periods domain."""
