"""How many seats each event has left and how long its waiting list is."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import Event, Registration, RegistrationStatus


@dataclass(frozen=True)
class Availability:
    capacity: int | None
    confirmed: int
    waitlisted: int

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.confirmed, 0)

    @property
    def is_full(self) -> bool:
        return self.seats_left == 0


def availability_of(events: Iterable[Event]) -> dict[int, Availability]:
    """Seats and queue length for each event, keyed by event id, in one query."""
    events = list(events)
    counts = {event.id: {} for event in events}
    rows = db.session.execute(
        select(Registration.event_id, Registration.status, func.count())
        .where(Registration.event_id.in_(counts))
        .where(Registration.status != RegistrationStatus.CANCELLED)
        .group_by(Registration.event_id, Registration.status)
    )
    for event_id, status, count in rows:
        counts[event_id][status] = count
    return {
        event.id: Availability(
            capacity=event.capacity,
            confirmed=counts[event.id].get(RegistrationStatus.CONFIRMED, 0),
            waitlisted=counts[event.id].get(RegistrationStatus.WAITLISTED, 0),
        )
        for event in events
    }


def availability_for(event: Event) -> Availability:
    """Seats and queue length of one event."""
    return availability_of([event])[event.id]
