"""Aggregates built from the platform's events, and reports."""
