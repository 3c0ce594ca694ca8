"""users domain: people who sign in, managed by national and region admins."""
