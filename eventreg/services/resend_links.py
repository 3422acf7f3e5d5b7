"""Sending a person their manage link again, without telling anyone whether they registered."""

from sqlalchemy import select

from ..addresses import canonical
from ..database import write_transaction
from ..extensions import db
from ..models import MessageKind, Registrant
from .outbox import enqueue, queued_lately


def send_manage_links(email: str) -> int:
    """Queue the manage link for every registration held under ``email``; returns how many.

    One such e-mail per address per RESEND_LINK_PAUSE_MINUTES, so the form cannot flood a
    mailbox. The caller answers the same whatever this returns.
    """
    email = canonical(email)
    with write_transaction():
        if queued_lately(MessageKind.MANAGE_LINK, recipient=email):
            return 0
        registrants = db.session.scalars(
            select(Registrant)
            .where(Registrant.email == email)
            .where(Registrant.purged_at.is_(None))
            .order_by(Registrant.id)
        ).all()
        for registrant in registrants:
            enqueue(MessageKind.MANAGE_LINK, registrant.registrations[-1])
    return len(registrants)
