"""Forms of the organiser area."""

from flask_wtf import FlaskForm


class RetryForm(FlaskForm):
    """An empty form: a CSRF-protected retry button."""
