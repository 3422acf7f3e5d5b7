"""Many registrations at once, inserted in bulk (minutes through the sign-up path)."""

from datetime import timedelta

import sqlalchemy as sa

from eventreg.extensions import db
from eventreg.models import Registrant, Registration, RegistrationStatus, TargetGroup, utcnow
from eventreg.services import events

from .app import app_on

CONFIRMED, WAITLISTED = RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED


def fill(url: str, slug: str, size: int, *, seats: int) -> None:
    """``size`` registrations for the event: the first ``seats`` hold its seats, the rest queue.

    The event's capacity becomes ``seats``. Every person has an e-mail address of their own.
    """
    app = app_on(url)
    with app.app_context():
        event = events.find(slug)
        event.capacity = seats
        now = utcnow()
        people = [_person(slug, number, now) for number in range(size)]
        ids = db.session.scalars(
            sa.insert(Registrant).returning(Registrant.id, sort_by_parameter_order=True), people
        ).all()
        rows = [
            {
                "registrant_id": registrant_id,
                "event_id": event.id,
                "status": CONFIRMED if number < seats else WAITLISTED,
                "created_at": now + timedelta(milliseconds=number),
                "confirmed_at": now if number < seats else None,
            }
            for number, registrant_id in enumerate(ids)
        ]
        db.session.execute(sa.insert(Registration), rows)
        db.session.commit()
        db.engine.dispose()


def _person(slug: str, number: int, now) -> dict:
    return {
        "first_name": "Bench",
        "last_name": f"Person {number}",
        "email": f"{slug}-{number}@example.org",
        "organisation": "Bench Cooperative",
        "country": "IT",
        "target_group": TargetGroup.SOCIAL_ECONOMY,
        "language": "en",
        "consent_at": now,
        "privacy_notice_version": "bench",
    }
