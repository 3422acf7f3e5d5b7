"""Rate limits, configurable per deployment (RATELIMIT_* settings), shared through REDIS_URL."""

import logging

from flask import Flask, current_app

from .extensions import limiter


def _setting(name: str):
    return lambda: current_app.config[name]


# Only the requests that write or check a secret count; reading pages is free.
login_limit = limiter.limit(_setting("RATELIMIT_LOGIN"), methods=["POST"])
signup_limit = limiter.limit(_setting("RATELIMIT_SIGNUP"), methods=["POST"])
manage_limit = limiter.limit(_setting("RATELIMIT_MANAGE"))
resend_limit = limiter.limit(_setting("RATELIMIT_RESEND"), methods=["POST"])
api_limit = limiter.limit(_setting("RATELIMIT_API"))


def init_app(app: Flask) -> None:
    """Bind the limiter; its storage going away and coming back is logged with the app's own."""
    limiter.init_app(app)
    # Flask-Limiter's logger has only a NullHandler: without this an unreachable Redis, and
    # the switch to counting in memory, would leave no trace in gunicorn's log.
    limiter.logger.setLevel(logging.INFO)
    for handler in app.logger.handlers:
        limiter.logger.addHandler(handler)
