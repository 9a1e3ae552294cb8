"""WSGI entry point for gunicorn and ``flask --app wsgi``."""

from engagement import create_app

app = create_app()
