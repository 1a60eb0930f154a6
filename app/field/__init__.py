"""The field app: farmers, cooperatives and handlers record their work from a phone (issue 10)."""
