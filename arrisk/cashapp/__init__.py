"""cashapp."""
