"""notes domain: the review thread on an innovation and its answers."""
