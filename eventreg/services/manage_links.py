"""Private manage links: a signed form of each registrant's random manage key."""

from flask import url_for
from sqlalchemy import select

from ..extensions import db
from ..models import Registrant
from .signed_links import sign, unsign

PURPOSE = "manage-link"


def manage_token(registrant: Registrant) -> str:
    """The token that opens this registrant's manage page."""
    return sign(registrant.manage_key, PURPOSE)


def manage_url(registrant: Registrant, **kwargs) -> str:
    """The absolute manage link to give to the registrant."""
    return url_for("manage.show", token=manage_token(registrant), _external=True, **kwargs)


def registrant_for_token(token: str) -> Registrant | None:
    """The registrant a manage token belongs to, or None for a forged or stale token."""
    key = unsign(token, PURPOSE)
    if key is None:
        return None
    return db.session.scalar(select(Registrant).where(Registrant.manage_key == key))
