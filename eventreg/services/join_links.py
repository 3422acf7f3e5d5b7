"""Personal join links for online events: ``/j/<token>`` records the join, then redirects.

A join counts as attendance only while the event runs: from ``JOIN_OPENS_MINUTES`` before
the start to the end. Earlier or later, the link shows when the event is, or that it is over.
"""

import enum
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import select

from ..database import lock, write_transaction
from ..extensions import db
from ..models import Event, Registration, utcnow
from .signed_links import sign, unsign

PURPOSE = "join-link"


class JoinWindow(enum.StrEnum):
    NOT_YET = "not_yet"
    OPEN = "open"
    OVER = "over"


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


def join_opens_at(event: Event) -> datetime:
    """The first moment a join link leads into the meeting."""
    return event.starts_at - timedelta(minutes=current_app.config["JOIN_OPENS_MINUTES"])


def join_window(event: Event, now: datetime | None = None) -> JoinWindow:
    """Whether ``now`` is before, during or after the time a join link leads in."""
    now = now or utcnow()
    if now < join_opens_at(event):
        return JoinWindow.NOT_YET
    if now >= event.ends_at:
        return JoinWindow.OVER
    return JoinWindow.OPEN


def record_join(registration: Registration, now: datetime | None = None) -> bool:
    """Count the person as attending (the first join counts); False outside the join window."""
    now = now or utcnow()
    if join_window(registration.event, now) is not JoinWindow.OPEN:
        return False
    if registration.joined_online_at is not None:
        return True  # a recorded join is never removed: no need to ask the database again
    with write_transaction():
        locked = lock(registration)
        if locked.joined_online_at is None:  # another worker may have recorded one meanwhile
            locked.joined_online_at = now
    return True
