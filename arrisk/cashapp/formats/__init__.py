"""Statement file formats: each parser returns a ``Statement`` or raises ``StatementFormatError``."""
