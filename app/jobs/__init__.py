"""Background jobs: their state in the database, run on RQ when REDIS_URL is set, inline otherwise."""
