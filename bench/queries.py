"""Query counts: the same request on a small and a large database issues as many statements.

Counted in-process with SQLAlchemy's ``before_cursor_execute`` event, through Flask's test
client (one app context per request, as in production), not under load.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask

from eventreg.extensions import db
from eventreg.models import (
    Registration,
    RegistrationStatus,
    Role,
)
from eventreg.services import accounts, events, registrations

from .app import app_on
from .databases import Copies
from .fill import fill
from .settings import SIGNUP_EVENT

PAGES = ("/", "/api/v1/events")
# Organiser pages, fetched with an organiser's bearer token: the attendance list (its first page
# of 50) and the event's whole CSV export, read to the end.
STAFF_PAGES = (f"/admin/events/{SIGNUP_EVENT}", f"/admin/events/{SIGNUP_EVENT}/attendees.csv")
PROMOTION = "waiting-list promotion (cancel a seat)"
# An API sign-up (the event is full in both databases: a place in the queue), counted without
# BEGIN, to compare with bench/write_floor.py, which sends the same statements.
SIGNUP = f"POST /api/v1/events/{SIGNUP_EVENT}/registrations (waitlisted, without BEGIN)"
SIGNUP_BODY = {
    "first_name": "Query",
    "last_name": "Counter",
    "organisation": "Bench Cooperative",
    "country": "IT",
    "target_group": "social_economy",
    "language": "en",
    "consent": True,
}
MEASURES = (*(f"GET {path}" for path in (*PAGES, *STAFF_PAGES)), PROMOTION, SIGNUP)


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
    app = app_on(url)  # pages counted as rendered, not as served from the page cache
    fill(url, SIGNUP_EVENT, size, seats=size // 2)
    with app.app_context():
        organiser = accounts.create_user("queries-organiser@example.org", Role.ORGANISER, "x" * 16)
        staff = {"Authorization": f"Bearer {accounts.issue_api_token(organiser)}"}
        engine = db.engine
    try:
        counts = {f"GET {path}": _count_page(app, engine, path) for path in PAGES}
        for path in STAFF_PAGES:
            counts[f"GET {path}"] = _count_page(app, engine, path, staff)
        counts[PROMOTION] = _count_promotion(app, engine, SIGNUP_EVENT)
        counts[SIGNUP] = _count_signup(app, engine, SIGNUP_EVENT)
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


def _count_page(app: Flask, engine: sa.Engine, path: str, headers: dict | None = None) -> int:
    """Statements of one GET, its streamed body read to the end."""
    client = app.test_client()
    client.get(path, headers=headers).close()  # the first request's one-off work is not the page's
    with _counting(engine) as statements:
        response = client.get(path, headers=headers)
        response.get_data()
        response.close()
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} gave {response.status_code}")
    return len(statements)


def _count_signup(app: Flask, engine: sa.Engine, slug: str) -> int:
    """Statements of one API sign-up after a first one, BEGIN (SQLite's own) left out."""
    client = app.test_client()
    path = f"/api/v1/events/{slug}/registrations"
    client.post(path, json=SIGNUP_BODY | {"email": "first-query@example.org"})
    with _counting(engine) as statements:
        response = client.post(path, json=SIGNUP_BODY | {"email": "query@example.org"})
    if response.status_code != 201:
        raise RuntimeError(f"POST {path} gave {response.status_code}")
    return len([s for s in statements if not s.startswith("BEGIN")])


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
