"""auth domain: sign-in, token refresh and logout, the caller itself."""
