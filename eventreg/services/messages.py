"""Organisers writing to the registrants of an event, through the outbox."""

from collections.abc import Iterable

from sqlalchemy import select

from ..database import write_transaction
from ..extensions import db
from ..models import Event, MessageKind, Registration, RegistrationStatus, User
from . import audit
from .outbox import enqueue


def send_to_registrants(
    event: Event, statuses: Iterable[RegistrationStatus], subject: str, body: str, *, actor: User
) -> int:
    """Queue one e-mail per registration with one of the statuses; returns how many."""
    with write_transaction():
        recipients = db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id)
            .where(Registration.status.in_(list(statuses)))
            .order_by(Registration.id)
        ).all()
        for registration in recipients:
            enqueue(MessageKind.ORGANISER_MESSAGE, registration, subject=subject, body=body)
        audit.record(
            "message_sent", event=event, actor=actor, subject=subject, recipients=len(recipients)
        )
    return len(recipients)
