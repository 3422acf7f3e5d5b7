"""Entry point for gunicorn: ``gunicorn wsgi:app``."""

from eventreg import create_app

app = create_app()
