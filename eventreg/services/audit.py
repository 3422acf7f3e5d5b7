"""The audit log: every change to a registration or an event, with who made it."""

from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import AuditEntry, Event, Registration, User


def record(
    action: str,
    *,
    registration: Registration | None = None,
    event: Event | None = None,
    actor: User | None = None,
    **details: Any,
) -> None:
    """Add an entry in the current transaction; no actor means the registrant themselves."""
    if event is None and registration is not None:
        event = registration.event
    db.session.add(
        AuditEntry(
            action=action,
            registration=registration,
            event_id=event.id if event is not None else None,
            actor_id=actor.id if actor is not None else None,
            details=details,
        )
    )


def history(registration: Registration) -> list[AuditEntry]:
    """What happened to a registration, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.registration_id == registration.id)
            .order_by(AuditEntry.id)
        )
    )
