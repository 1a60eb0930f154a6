"""recalls feature."""
