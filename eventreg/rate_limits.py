"""Rate limits, configurable per deployment (RATELIMIT_* settings), shared through REDIS_URL.

Without REDIS_URL each gunicorn worker counts on its own in memory, so N workers allow up to
N times a limit (README).
"""

import logging

from flask import Flask, current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .extensions import limiter


def _setting(name: str):
    return lambda: current_app.config[name]


def _staff_account() -> str:
    """Count per staff account, wherever its requests come from; others per address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


# Only the requests that write or check a secret count; reading pages is free.
login_limit = limiter.limit(_setting("RATELIMIT_LOGIN"), methods=["POST"])
signup_limit = limiter.limit(_setting("RATELIMIT_SIGNUP"), methods=["POST"])
manage_limit = limiter.limit(_setting("RATELIMIT_MANAGE"))
resend_limit = limiter.limit(_setting("RATELIMIT_RESEND"), methods=["POST"])
api_limit = limiter.limit(_setting("RATELIMIT_API"))
door_search_limit = limiter.limit(_setting("RATELIMIT_DOOR_SEARCH"), key_func=_staff_account)


def init_app(app: Flask) -> None:
    """Bind the limiter; its storage going away and coming back is logged with the app's own."""
    limiter.init_app(app)
    # Flask-Limiter's logger has only a NullHandler: without this an unreachable Redis, and
    # the switch to counting in memory, would leave no trace in gunicorn's log.
    limiter.logger.setLevel(logging.INFO)
    for handler in app.logger.handlers:
        limiter.logger.addHandler(handler)
