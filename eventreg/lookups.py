"""Loading what a URL names for a view, or answering 404: one place for every blueprint."""

from flask import abort, request

from .extensions import db
from .models import Event, Material, Registration
from .services import events

LARGEST_ID = 2**31 - 1  # PostgreSQL's integer: a larger number in a form is no row's id


def event_or_404(slug: str, *, include_drafts: bool = True) -> Event:
    """The event with this slug; drafts too unless the visitor is the public."""
    return events.find(slug, include_drafts=include_drafts) or abort(
        404, description="No event with that slug."
    )


def edited_event_or_404(slug: str) -> Event:
    """The event an edit page is for. On saving, the one the page was opened for (the form
    carries its id): another organiser may have renamed the draft since, or even given its
    slug to another draft, and the edit must neither be lost nor land on the wrong event."""
    if request.method == "POST":
        opened = request.form.get("event_id", type=int)
        if opened is not None and 0 < opened <= LARGEST_ID:
            event = db.session.get(Event, opened)
            if event is not None:
                return event
    return event_or_404(slug)


def registration_or_404(reference: str) -> Registration:
    """The registration with this reference, for organisers (any event, any status)."""
    return db.first_or_404(db.select(Registration).where(Registration.reference == reference))


def material_or_404(event: Event, material_id: int) -> Material:
    """One of the event's materials: another event's number is as unknown as a wrong one."""
    material = db.session.get(Material, material_id)
    if material is None or material.event_id != event.id:
        abort(404)
    return material
