"""audit domain: reading the append-only trail of every write, login and failed login."""
