"""editions domain."""
