"""exports domain: spreadsheets made by the worker (POST /v1/exports), kept for a while."""
