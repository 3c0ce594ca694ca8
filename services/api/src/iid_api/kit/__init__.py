"""Shared plumbing of the API: errors, sessions, pagination, principal and tenancy scope."""
