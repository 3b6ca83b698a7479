"""The AR ledger as data frames: the interchange format and as-of reconstruction."""
