"""Who am I: the caller's user, role and portfolio."""
