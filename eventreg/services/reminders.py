"""Reminders about a day before each event: one per confirmed registration, never two."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ..database import locking, write_transaction
from ..extensions import db
from ..models import Event, MessageKind, Registration, RegistrationStatus, utcnow
from .outbox import enqueue


def queue_reminders(now: datetime | None = None) -> int:
    """Queue a reminder for every confirmed registration whose event starts within the lead time."""
    now = now or utcnow()
    horizon = now + timedelta(hours=current_app.config["REMINDER_LEAD_HOURS"])
    with write_transaction():
        # The events first, as an organiser's change locks them: one being moved is read as
        # it is once the change is saved, and a change waits until these reminders are queued
        # (then takes them back if the event moved to another day).
        soon = db.session.scalars(
            locking(
                select(Event.id)
                .where(Event.starts_at > now, Event.starts_at <= horizon)
                .order_by(Event.id)
            )
        ).all()
        due = db.session.scalars(
            locking(
                select(Registration)
                .where(Registration.event_id.in_(soon))
                .where(Registration.status == RegistrationStatus.CONFIRMED)
                .where(Registration.reminder_sent_at.is_(None))
                .order_by(Registration.id)
            )
        ).all()
        for registration in due:
            registration.reminder_sent_at = now
            enqueue(MessageKind.REMINDER, registration)
    return len(due)
