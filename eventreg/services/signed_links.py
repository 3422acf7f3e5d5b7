"""Signed tokens for links: a random secret from the database, signed with SECRET_KEY."""

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer


def sign(secret: str, purpose: str) -> str:
    """A URL-safe token carrying ``secret``, valid only for ``purpose``."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=purpose).dumps(secret)


def unsign(token: str, purpose: str) -> str | None:
    """The secret in a token, or None when it is forged, altered or meant for another purpose."""
    try:
        secret = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=purpose).loads(token)
    except BadSignature:
        return None
    return secret if isinstance(secret, str) else None
