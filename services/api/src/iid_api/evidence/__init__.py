"""evidence domain: uploads (data dukung), downloads with ranges, detaching."""
