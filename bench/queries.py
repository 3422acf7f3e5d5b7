"""Query counts: the same request on a small and a large database issues as many statements.

Counted in-process with SQLAlchemy's ``before_cursor_execute`` event, through Flask's test
client (one app context per request, as in production), not under load.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from eventreg import create_app
from eventreg.extensions import db
from eventreg.models import Registrant, Registration, RegistrationStatus, TargetGroup, utcnow
from eventreg.services import events, registrations

from .databases import Copies
from .settings import SIGNUP_EVENT

PAGES = ("/", "/api/v1/events")
PROMOTION = "waiting-list promotion (cancel a seat)"
MEASURES = (*(f"GET {path}" for path in PAGES), PROMOTION)


def count_queries(copies: Copies, sizes: tuple[int, ...]) -> dict:
    """For each measure: the statement count at each size, and whether they are all equal."""
    by_size = {}
    for size in sizes:
        with copies() as url:
            by_size[size] = _counts_at(url, size)
    return {
        measure: {
            "statements": {str(size): by_size[size][measure] for size in sizes},
            "equal": len({by_size[size][measure] for size in sizes}) == 1,
        }
        for measure in MEASURES
    }


def _counts_at(url: str, size: int) -> dict[str, int]:
    """Counts on a copy of the prepared database, filled with ``size`` registrations."""
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        _fill(SIGNUP_EVENT, size)
        engine = db.engine
    try:
        counts = {f"GET {path}": _count_page(app, engine, path) for path in PAGES}
        counts[PROMOTION] = _count_promotion(app, engine, SIGNUP_EVENT)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return counts


@contextmanager
def _counting(engine: sa.Engine) -> Iterator[list[str]]:
    """Collect every SQL statement sent through the engine inside the block."""
    statements: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _count_page(app: Flask, engine: sa.Engine, path: str) -> int:
    client = app.test_client()
    client.get(path)  # the first request's one-off work is not the page's
    with _counting(engine) as statements:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} gave {response.status_code}")
    return len(statements)


def _count_promotion(app: Flask, engine: sa.Engine, slug: str) -> int:
    """Cancel the first confirmed seat, which promotes the first person in the queue."""
    with app.app_context():
        event = events.find(slug)
        seat_holder = db.session.scalars(
            sa.select(Registration)
            .where(Registration.event_id == event.id)
            .where(Registration.status == RegistrationStatus.CONFIRMED)
            .order_by(Registration.id)
            .limit(1)
        ).one()
        with _counting(engine) as statements:
            promoted = registrations.cancel(seat_holder)
        if promoted is None:
            raise RuntimeError("cancelling a seat promoted nobody")
    return len(statements)


def _fill(slug: str, size: int) -> None:
    """``size`` registrations for the event: the first half hold its seats, the rest queue."""
    event = events.find(slug)
    event.capacity = size // 2
    now = utcnow()
    people = [_person(number, now) for number in range(size)]
    ids = db.session.scalars(
        sa.insert(Registrant).returning(Registrant.id, sort_by_parameter_order=True), people
    ).all()
    rows = [
        {
            "registrant_id": registrant_id,
            "event_id": event.id,
            "status": (
                RegistrationStatus.CONFIRMED
                if number < event.capacity
                else RegistrationStatus.WAITLISTED
            ),
            "created_at": now + timedelta(milliseconds=number),
            "confirmed_at": now if number < event.capacity else None,
        }
        for number, registrant_id in enumerate(ids)
    ]
    db.session.execute(sa.insert(Registration), rows)
    db.session.commit()


def _person(number: int, now) -> dict:
    return {
        "first_name": "Bench",
        "last_name": f"Person {number}",
        "email": f"queries-{number}@example.org",
        "organisation": "Bench Cooperative",
        "country": "IT",
        "target_group": TargetGroup.SOCIAL_ECONOMY,
        "language": "en",
        "consent_at": now,
        "privacy_notice_version": "bench",
    }
