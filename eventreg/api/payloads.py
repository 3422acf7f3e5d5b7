"""Turning JSON requests into validated forms, and events into JSON."""

from functools import cache
from typing import Any

from flask import abort, request
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField
from wtforms.fields.core import UnboundField

from ..models import Event
from ..services.availability import Availability


def json_object() -> dict[str, Any]:
    """The request body as a JSON object; 415 when it is not JSON, 400 when it is malformed."""
    if not request.is_json:
        abort(415, description="Send the body as JSON with Content-Type: application/json.")
    try:
        payload = request.get_json(silent=True)
    except RecursionError:
        abort(400, description="The JSON is nested too deeply.")
    if not isinstance(payload, dict):
        abort(400, description="The body must be a JSON object.")
    return payload


def form_from_json(form_class, payload: dict[str, Any]):
    """Build a form from JSON so that the API validates exactly as the web form does.

    Returns the form and the type errors found before validation (e.g. a number where text
    belongs); booleans must be JSON true or false.
    """
    field_types = _field_types(form_class)
    type_errors: dict[str, list[str]] = {}
    formdata = MultiDict()
    for name, value in payload.items():
        field_class = field_types.get(name)
        if field_class is None or name == "csrf_token":
            continue
        is_boolean = issubclass(field_class, BooleanField)
        if is_boolean and isinstance(value, bool):
            if value:
                formdata[name] = "y"
        elif is_boolean and value is not None:
            type_errors[name] = ["Must be true or false."]
        elif isinstance(value, str):
            formdata[name] = value
        elif value is not None:
            type_errors[name] = ["Must be a string."]
    return form_class(formdata=formdata, meta={"csrf": False}), type_errors


@cache
def _field_types(form_class) -> dict[str, type]:
    """The form's field classes by name, read off the class without building a form."""
    return {
        name: attribute.field_class
        for name in dir(form_class)
        if isinstance(attribute := getattr(form_class, name), UnboundField)
    }


def event_json(event: Event, availability: Availability) -> dict[str, Any]:
    """The public description of an event."""
    return {
        "slug": event.slug,
        "title": event.title,
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
