"""Tests of the QR endpoints and rendering."""
