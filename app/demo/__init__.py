"""The demo: its data in YAML files here (organizations.yaml, batches.yaml, compliance.yaml), and
the loader that ``flask --app wsgi demo load`` runs to create what of it is missing."""

from app.demo.loader import DEMO_PASSWORDS, load_demo, read_demo

__all__ = ["DEMO_PASSWORDS", "load_demo", "read_demo"]
