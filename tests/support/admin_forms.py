"""Forms of the organiser area filled as a browser would send them."""

from eventreg.models import Event
from eventreg.services.agenda import agenda_text

LOCAL = "%Y-%m-%dT%H:%M"


def edit_form(event: Event, **overrides) -> dict:
    """The organiser's edit form as the browser would send it, with some fields changed."""
    return {
        "slug": event.slug,
        "title": event.title,
        "description": event.description,
        "kind": event.kind.value,
        "mode": event.mode.value,
        "timezone": event.timezone,
        "starts_at": event.local_starts_at.strftime(LOCAL),
        "ends_at": event.local_ends_at.strftime(LOCAL),
        "city": event.city or "",
        "venue": event.venue or "",
        "online_url": event.online_url or "",
        "host_partner": event.host_partner,
        "agenda": agenda_text(event),
        "capacity": "" if event.capacity is None else str(event.capacity),
        "registration_opens_at": event.registration_opens_at.astimezone(event.zone).strftime(LOCAL),
        "registration_closes_at": event.registration_closes_at.astimezone(event.zone).strftime(
            LOCAL
        ),
    } | overrides


def event_form(**overrides):
    """A new online event as the organiser's form sends it, with some fields changed."""
    return {
        "slug": "webinar-extra",
        "title": "Extra webinar",
        "description": "Questions and answers.",
        "kind": "webinar",
        "mode": "online",
        "timezone": "Europe/Sofia",
        "starts_at": "2031-05-05T10:00",
        "ends_at": "2031-05-05T12:00",
        "city": "",
        "venue": "",
        "online_url": "https://meet.example.org/extra",
        "host_partner": "Municipality of Gabrovo",
        "capacity": "",
        "registration_opens_at": "2026-01-01T09:00",
        "registration_closes_at": "2031-05-04T18:00",
    } | overrides
