"""gunicorn entry point: `gunicorn wsgi:app`."""

from tutorat import create_app

app = create_app()
