"""batches feature."""
