"""Forms of the organiser area filled as a browser would send them."""

from eventreg.models import Event

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
        "capacity": "" if event.capacity is None else str(event.capacity),
        "registration_opens_at": event.registration_opens_at.astimezone(event.zone).strftime(LOCAL),
        "registration_closes_at": event.registration_closes_at.astimezone(event.zone).strftime(
            LOCAL
        ),
    } | overrides
