"""compliance feature."""
