"""Privacy requests: what we hold about an email address, and erasing it (staff and self-service)."""
