"""Helpers for the tests of what comes after an event: end it, record who attended."""

from datetime import timedelta

from eventreg.extensions import db
from eventreg.models import Event, Registration, utcnow


def end_event(event: Event, *, days_ago: float = 1) -> Event:
    """Move an event (people signed up while it was open) into the past."""
    now = utcnow()
    event.starts_at = now - timedelta(days=days_ago, hours=7)
    event.ends_at = now - timedelta(days=days_ago)
    event.registration_opens_at = now - timedelta(days=days_ago + 30)
    event.registration_closes_at = now - timedelta(days=days_ago + 1)
    db.session.commit()
    return event


def attend(registration: Registration) -> Registration:
    """Record the person as checked in at the door."""
    registration.checked_in_at = registration.event.starts_at + timedelta(minutes=5)
    db.session.commit()
    return registration
