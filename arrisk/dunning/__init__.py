"""dunning."""
