"""Which models serve, and reloading them from the registry."""
