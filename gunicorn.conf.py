"""gunicorn's settings for ``make run`` and production (read from the working directory).

Threaded workers: a password check (argon2, slow on purpose) holds one thread, and the app lets
only one run per process at a time (app/account/limits.py), so the other threads keep serving
the pages while people sign in. ``scripts/bench_login.py`` measures it.
"""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
