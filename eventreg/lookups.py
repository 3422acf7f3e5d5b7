"""Loading what a URL names for a view, or answering 404: one place for every blueprint."""

from flask import abort

from .models import Event
from .services import events


def event_or_404(slug: str, *, include_drafts: bool = True) -> Event:
    """The event with this slug; drafts too unless the visitor is the public."""
    return events.find(slug, include_drafts=include_drafts) or abort(
        404, description="No event with that slug."
    )
