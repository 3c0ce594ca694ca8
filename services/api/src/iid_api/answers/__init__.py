"""answers domain."""
