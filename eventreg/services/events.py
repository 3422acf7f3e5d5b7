"""Finding events of the programme."""

from collections.abc import Iterable

from sqlalchemy import select

from ..extensions import db
from ..models import Event, EventKind, utcnow


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
