"""Collector records over HTTP: promises, disputes, payment plans, activities, write-offs."""
