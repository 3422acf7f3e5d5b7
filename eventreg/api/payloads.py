"""Turning JSON requests into validated forms, and events into JSON."""

from typing import Any

from ..models import Event, EventDay
from ..services.availability import Availability


def event_json(event: Event, availability: Availability, language: str) -> dict[str, Any]:
    """The public description of an event, its texts in ``language`` where translated."""
    written_in = event.language_of("title", language)
    return {
        "slug": event.slug,
        "language": written_in,
        "title": event.text_in("title", written_in),
        "description": event.text_in("description", written_in),
        "status": event.status.value,
        "kind": event.kind.value,
        "mode": event.mode.value,
        "starts_at": event.local_starts_at.isoformat(),
        "ends_at": event.local_ends_at.isoformat(),
        "timezone": event.timezone,
        "city": None if event.is_online else event.city,
        "venue": None if event.is_online else event.venue,
        "host_partner": event.host_partner,
        "capacity": event.capacity,
        "seats_left": availability.seats_left,
        "waitlist_length": availability.waitlisted,
        "registration_open": event.is_registration_open(),
        "registration_opens_at": event.registration_opens_at.astimezone(event.zone).isoformat(),
        "registration_closes_at": event.registration_closes_at.astimezone(event.zone).isoformat(),
        "days": [_day_json(day, language) for day in event.days] if event.is_multi_day else [],
    }


def _day_json(day: EventDay, language: str) -> dict[str, Any]:
    """One day of a multi-day event: its hours, and its title in ``language`` where translated."""
    title, written_in = day.title_in(language)
    return {
        "starts_at": day.local_starts_at.isoformat(),
        "ends_at": day.local_ends_at.isoformat(),
        "title": title,
        "language": written_in if title else None,
    }


def material_json(material) -> dict:
    """A material as the API shows it."""
    body = {
        "id": material.id,
        "event": material.event.slug,
        "title": material.title,
        "titles": {"en": material.title} | (material.translations or {}),
        "visibility": material.visibility.value,
        "kind": "link" if material.is_link else "file",
    }
    if material.is_link:
        return body | {"url": material.url}
    return body | {
        "filename": material.filename,
        "content_type": material.content_type,
        "size": material.size,
    }
