"""Queued writes from the field app's outbox, sent again and stored once (issue 10, part "Offline")."""
