"""Collector records: promises to pay, disputes, payment plans, activities and write-offs.

Plain service functions (engine + actor) that the CLI and the API both call; every change is
written to the audit log with the row before and after.
"""
