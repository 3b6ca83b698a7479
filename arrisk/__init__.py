"""arrisk: accounts-receivable delinquency and risk service (AR domain, store and CLI)."""

__version__ = "0.1.0"
