"""When and where an event is, as JSON an "event changed" e-mail keeps, to tell old → new."""

from datetime import UTC
from typing import Any

from ..models import AgendaDay, Event

# What ``schedule_of`` holds of each aspect (the meeting link is never stored in the clear).
_SCHEDULE_KEYS = {
    "time": ("starts_at", "ends_at", "timezone", "multi_day", "days"),
    "place": ("mode", "city", "venue"),
}


def schedule_of(event: Event) -> dict[str, Any]:
    """When and where the event is, as JSON, so that an e-mail can later say "old → new"."""
    return {
        "starts_at": event.starts_at.astimezone(UTC).isoformat(),
        "ends_at": event.ends_at.astimezone(UTC).isoformat(),
        "timezone": event.timezone,
        "mode": event.mode.value,
        "city": event.city,
        "venue": event.venue,
        "multi_day": event.is_multi_day,  # its days had hours of their own
        "days": hours(event.agenda),
    }


def differs(aspect: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether the event's time or place differs between two ``schedule_of``; a meeting link,
    never stored in the clear there, counts as changed."""
    keys = _SCHEDULE_KEYS.get(aspect)
    return keys is None or any(before.get(key) != after.get(key) for key in keys)


def hours(days: list[AgendaDay]) -> list[list[str]]:
    """A multi-day event's days, each its start and end in UTC."""
    return [
        [day.starts_at.astimezone(UTC).isoformat(), day.ends_at.astimezone(UTC).isoformat()]
        for day in days
    ]
