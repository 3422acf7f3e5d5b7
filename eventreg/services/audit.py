"""The audit log: every change to a registration or an event, with who made it."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select

from ..extensions import db
from ..models import AuditEntry, Event, OutboxMessage, Registration, User

# Changes to a whole event that reach each of its registrations.
EVENT_CHANGES = ("event_updated", "event_cancelled", "capacity_raised")


@dataclass(frozen=True)
class HistoryItem:
    """One line of a registration's history: an audit entry or an e-mail written to the person."""

    at: datetime
    entry: AuditEntry | None = None
    message: OutboxMessage | None = None


def record(
    action: str,
    *,
    registration: Registration | None = None,
    event: Event | None = None,
    actor: User | None = None,
    **details: Any,
) -> None:
    """Add an entry in the current transaction; no actor means the registrant themselves.

    The entry is written at once with one INSERT (no object: nothing reads it back in the same
    use case, and a log line costs a fraction of the unit of work); a registration or event
    not yet in the database is flushed first, so that the entry can name it.
    """
    if event is None and registration is not None:
        event = registration.event
    if (registration is not None and registration.id is None) or (
        event is not None and event.id is None
    ):
        db.session.flush()
    insert_entry(
        action,
        registration_id=registration.id if registration is not None else None,
        event_id=event.id if event is not None else None,
        actor_id=actor.id if actor is not None else None,
        **details,
    )


def insert_entry(
    action: str,
    *,
    registration_id: int | None = None,
    event_id: int | None = None,
    actor_id: int | None = None,
    **details: Any,
) -> None:
    """Add an entry with one INSERT, for a use case that holds ids rather than objects."""
    db.session.execute(
        _INSERT_ENTRY,
        {
            "action": action,
            "registration_id": registration_id,
            "event_id": event_id,
            "actor_id": actor_id,
            "details": details,
        },
    )


# inline(): nothing reads the new id, so PostgreSQL is not asked to return it.
_INSERT_ENTRY = insert(AuditEntry.__table__).inline()


def history(registration: Registration) -> list[AuditEntry]:
    """What happened to a registration, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.registration_id == registration.id)
            .order_by(AuditEntry.id)
        )
    )


def timeline(registration: Registration) -> list[HistoryItem]:
    """The registration's history, the changes to its event since it was made, and every
    e-mail written to the person about it, oldest first."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            or_(
                AuditEntry.registration_id == registration.id,
                (AuditEntry.event_id == registration.event_id)
                & AuditEntry.registration_id.is_(None)
                & AuditEntry.action.in_(EVENT_CHANGES)
                & (AuditEntry.created_at >= registration.created_at),
            )
        )
        .order_by(AuditEntry.id)
    )
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.registration_id == registration.id)
        .order_by(OutboxMessage.id)
    )
    items = [HistoryItem(entry.created_at, entry=entry) for entry in entries]
    items += [HistoryItem(message.created_at, message=message) for message in messages]
    return sorted(items, key=lambda item: (item.at, item.message is not None))
