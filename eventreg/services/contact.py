"""Where people reach the organisers: the event's own contact, else the site's (MAIL_REPLY_TO)."""

from email.utils import parseaddr

from flask import current_app

from ..models import Event


def reply_address(event: Event | None = None) -> str | None:
    """The address replies go to for this event's mail, or None when none is configured."""
    if event is not None and event.contact_email:
        return event.contact_email
    return current_app.config.get("MAIL_REPLY_TO") or None


def contact_address() -> str | None:
    """The site's contact as a bare e-mail address, for pages to show and link."""
    reply_to = reply_address()
    return parseaddr(reply_to)[1] or None if reply_to else None
