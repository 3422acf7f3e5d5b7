"""Private manage links: a signed form of each registrant's random manage key."""

from flask import current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from ..extensions import db
from ..models import Registrant


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="manage-link")


def manage_token(registrant: Registrant) -> str:
    """The token that opens this registrant's manage page."""
    return _serializer().dumps(registrant.manage_key)


def manage_url(registrant: Registrant, **kwargs) -> str:
    """The absolute manage link to give to the registrant."""
    return url_for("manage.show", token=manage_token(registrant), _external=True, **kwargs)


def registrant_for_token(token: str) -> Registrant | None:
    """The registrant a manage token belongs to, or None for a forged or stale token."""
    try:
        key = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(key, str):
        return None
    return db.session.scalar(select(Registrant).where(Registrant.manage_key == key))
