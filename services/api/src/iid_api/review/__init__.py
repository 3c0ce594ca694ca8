"""review domain: the region checks its agencies' innovations before they are sent."""
