"""inbox domain: what needs each user, read and unread."""
