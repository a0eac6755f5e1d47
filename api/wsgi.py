"""WSGI entry point for gunicorn (production)."""

from . import create_app

app = create_app()
