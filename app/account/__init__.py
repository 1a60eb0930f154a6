"""Signing in to the web pages: server-side sessions, login limits, changing one's password."""
