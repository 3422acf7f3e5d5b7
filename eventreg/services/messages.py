"""Organisers writing to the registrants of an event, through the outbox."""

from collections.abc import Iterable

from sqlalchemy import select

from ..database import lock, write_transaction
from ..extensions import db
from ..models import (
    Event,
    MessageKind,
    OutboxMessage,
    Registrant,
    Registration,
    RegistrationStatus,
    User,
)
from . import audit
from .outbox import enqueue, queued_alike


class AlreadySent(Exception):
    """The same message went to the event's registrants moments ago (a double click, the form
    sent again from the browser's history): it is not sent twice."""


def send_to_registrants(
    event: Event, statuses: Iterable[RegistrationStatus], subject: str, body: str, *, actor: User
) -> int:
    """Queue one e-mail per registration with one of the statuses; returns how many.

    AlreadySent when the same subject and text were sent to the event's registrants within
    ``outbox.REPEAT_WINDOW`` (changed, even slightly, they go)."""
    with write_transaction():
        event = lock(event)  # a second click waits here, then finds the first one's e-mails
        if _sent_lately(event, subject, body):
            raise AlreadySent(event.slug)
        recipients = db.session.scalars(
            select(Registration)
            .join(Registration.registrant)
            .where(Registration.event_id == event.id)
            .where(Registration.status.in_(list(statuses)))
            .where(Registrant.email != "")  # erased: their registration of an ended event stays
            .order_by(Registration.id)
        ).all()
        for registration in recipients:
            enqueue(MessageKind.ORGANISER_MESSAGE, registration, subject=subject, body=body)
        audit.record(
            "message_sent", event=event, actor=actor, subject=subject, recipients=len(recipients)
        )
    return len(recipients)


def _sent_lately(event: Event, subject: str, body: str) -> bool:
    of_the_event = select(Registration.id).where(Registration.event_id == event.id)
    return queued_alike(
        MessageKind.ORGANISER_MESSAGE,
        {"subject": subject, "body": body},
        OutboxMessage.registration_id.in_(of_the_event),
    )
