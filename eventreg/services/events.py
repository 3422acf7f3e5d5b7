"""Finding events of the programme."""

from collections.abc import Iterable

from sqlalchemy import select

from ..extensions import db
from ..models import (
    Event,
    EventKind,
    MessageKind,
    Registration,
    RegistrationStatus,
    utcnow,
)
from .outbox import enqueue

# What a calendar entry shows: a change to any of these sends everyone an updated invitation.
SCHEDULE_FIELDS = ("starts_at", "ends_at", "timezone", "mode", "city", "venue", "online_url")


def programme() -> list[Event]:
    """All events in date order."""
    return list(db.session.scalars(select(Event).order_by(Event.starts_at, Event.id)))


def by_kind(events: Iterable[Event]) -> dict[EventKind, list[Event]]:
    """Events grouped by kind, missions first, keeping their order."""
    groups: dict[EventKind, list[Event]] = {kind: [] for kind in EventKind}
    for event in events:
        groups[event.kind].append(event)
    return groups


def open_for_registration() -> list[Event]:
    """Events whose registration window is open now, in date order."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.registration_opens_at <= now, Event.registration_closes_at > now)
            .order_by(Event.starts_at, Event.id)
        )
    )


def find(slug: str) -> Event | None:
    return db.session.scalar(select(Event).where(Event.slug == slug))


def apply_changes(event: Event, values: dict) -> bool:
    """Set the event's fields; if its time or place moved, queue updated invitations.

    Runs inside the caller's transaction. Returns whether anything changed.
    """
    changed = {name for name, value in values.items() if getattr(event, name) != value}
    for name in changed:
        setattr(event, name, values[name])
    if changed & set(SCHEDULE_FIELDS):
        for registration in _confirmed(event):
            enqueue(
                MessageKind.EVENT_CHANGED,
                registration,
                sequence=registration.next_calendar_sequence(),
            )
    return bool(changed)


def _confirmed(event: Event) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.event_id == event.id)
            .where(Registration.status == RegistrationStatus.CONFIRMED)
            .order_by(Registration.id)
        )
    )
