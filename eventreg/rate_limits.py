"""Rate limits, configurable per deployment (RATELIMIT_* settings)."""

from flask import current_app

from .extensions import limiter


def _setting(name: str):
    return lambda: current_app.config[name]


# Only the requests that write or check a secret count; reading pages is free.
login_limit = limiter.limit(_setting("RATELIMIT_LOGIN"), methods=["POST"])
signup_limit = limiter.limit(_setting("RATELIMIT_SIGNUP"), methods=["POST"])
manage_limit = limiter.limit(_setting("RATELIMIT_MANAGE"))
resend_limit = limiter.limit(_setting("RATELIMIT_RESEND"), methods=["POST"])
api_limit = limiter.limit(_setting("RATELIMIT_API"))
