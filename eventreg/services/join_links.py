"""Personal join links for online events: ``/j/<token>`` records the join, then redirects."""

from flask import url_for
from sqlalchemy import select

from ..database import lock, write_transaction
from ..extensions import db
from ..models import Registration, utcnow
from .signed_links import sign, unsign

PURPOSE = "join-link"


def join_url(registration: Registration) -> str:
    """The registrant's own link to the online meeting."""
    token = sign(registration.ticket_secret, PURPOSE)
    return url_for("public.join", token=token, _external=True)


def registration_for_join_token(token: str) -> Registration | None:
    """The registration a join token belongs to; None when forged or the ticket was replaced."""
    secret = unsign(token, PURPOSE)
    if secret is None:
        return None
    return db.session.scalar(select(Registration).where(Registration.ticket_secret == secret))


def record_join(registration: Registration) -> None:
    """Count the person as attending the online event (the first join counts)."""
    if registration.joined_online_at is not None:
        return  # a recorded join is never removed: no need to ask the database again
    with write_transaction():
        locked = lock(registration)
        if locked.joined_online_at is None:  # another worker may have recorded one meanwhile
            locked.joined_online_at = utcnow()
