"""Sending a person their manage link again, without telling anyone whether they registered."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..addresses import canonical
from ..database import write_transaction
from ..extensions import db
from ..models import MessageKind, OutboxMessage, Registrant, utcnow
from .outbox import enqueue


def send_manage_links(email: str) -> int:
    """Queue the manage link for every registration held under ``email``; returns how many.

    One such e-mail per address per RESEND_LINK_PAUSE_MINUTES, so the form cannot flood a
    mailbox. The caller answers the same whatever this returns.
    """
    email = canonical(email)
    pause = timedelta(minutes=current_app.config["RESEND_LINK_PAUSE_MINUTES"])
    with write_transaction():
        recently = db.session.scalar(
            select(OutboxMessage.id)
            .where(OutboxMessage.kind == MessageKind.MANAGE_LINK)
            .where(OutboxMessage.recipient == email)
            .where(OutboxMessage.created_at > utcnow() - pause)
            .limit(1)
        )
        if recently is not None:
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
