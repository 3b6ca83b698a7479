"""Ledger store: schema, engine, migrations and the audit log."""
