"""The single entry point: routing, token checks, limits and one docs page."""
