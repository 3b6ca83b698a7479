"""Dunning over HTTP: start a run, read its decisions, explain one customer's."""
