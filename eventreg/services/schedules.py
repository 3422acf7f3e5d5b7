"""When and where an event is, as JSON an "event changed" e-mail keeps, to tell old → new."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

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


def reads_the_same(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether two ``schedule_of`` name the same moments at the same local hours: a new zone
    with the old one's offsets (Berlin → Rome), or a new day title, moves nobody's calendar
    or plans. (A new zone with other offsets moves the moments or the hours shown.)"""
    keys = ("starts_at", "ends_at", "days")
    if any(before[key] != after[key] for key in keys):
        return False
    old, new = ZoneInfo(before["timezone"]), ZoneInfo(after["timezone"])
    moments = [before["starts_at"], before["ends_at"], *(m for day in before["days"] for m in day)]
    return all(
        datetime.fromisoformat(moment).astimezone(old).utcoffset()
        == datetime.fromisoformat(moment).astimezone(new).utcoffset()
        for moment in moments
    )
