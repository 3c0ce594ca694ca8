"""agencies domain."""
