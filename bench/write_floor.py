"""The write floor: an API sign-up's SQL statements from a bare Flask view, through the DB-API.

No ORM, no forms, no Babel, no rate limiter: the view parses the same JSON body as
``POST /api/v1/events/<slug>/registrations``, then sends the statements an API sign-up sends
(``bench/queries.py`` counts the app's; ``SIGNUP_STATEMENTS`` here must stay equal to that
count), with the same transaction boundaries: one write transaction (``BEGIN IMMEDIATE`` on
SQLite, ``FOR UPDATE`` on PostgreSQL) that finds and locks the event by its slug, counts its
seats and queue and checks the address in one statement, and inserts the person, the
registration, the audit entry and the outbox message, then commits.
What the app spends beyond this endpoint's CPU per request is its own work, not the database's.

Served by gunicorn like ``bench/floor_app.py``, with ``EVENTREG_SQLALCHEMY_DATABASE_URI``
pointing at a copy of the prepared database; one connection per worker thread.
"""

import json
import os
import secrets
import sqlite3
import threading
from datetime import UTC, datetime
from email.utils import make_msgid

from flask import Flask, abort, request

# One write transaction: the event found and locked by its slug (the columns the rules read),
# its seats, queue and the address counted in one statement, then the person, the registration,
# the audit entry and the outbox message (a waiting person's e-mail gives their place).
SIGNUP_STATEMENTS = 6

LOCK_EVENT = (
    "SELECT id, slug, mode, capacity, registration_opens_at, registration_closes_at, status"
    " FROM event WHERE slug = {p} AND status != {p} ORDER BY id"
)
STANDING = (
    "SELECT event.id,"
    " (SELECT count(*) FROM registration WHERE event_id = event.id AND status = {p}),"
    " (SELECT count(*) FROM registration WHERE event_id = event.id AND status = {p}),"
    " (SELECT count(*) FROM registration WHERE event_id = event.id AND registrant_id IN"
    " (SELECT id FROM registrant WHERE email = {p}) AND status != {p})"
    " FROM event WHERE event.id IN ({p})"
)
INSERT_REGISTRANT = (
    "INSERT INTO registrant (first_name, last_name, search_name, email, organisation,"
    " job_title, country, target_group, social_economy_type, language, needs, network_opt_in,"
    " consent_at, privacy_notice_version, manage_key, purged_at, created_at, updated_at)"
    " VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p},"
    " {p}) RETURNING id"
)
INSERT_REGISTRATION = (
    "INSERT INTO registration (reference, registrant_id, event_id, status, ticket_secret,"
    " created_at, confirmed_at, cancelled_at, calendar_sequence, reminder_sent_at,"
    " joined_online_at, checked_in_at, checked_in_by_id)"
    " VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) RETURNING id"
)
INSERT_AUDIT = (
    "INSERT INTO audit_entry (action, registration_id, event_id, actor_id, details, created_at)"
    " VALUES ({p}, {p}, {p}, {p}, {p}, {p})"
)
INSERT_OUTBOX = (
    "INSERT INTO outbox_message (kind, registration_id, recipient, params, message_id, status,"
    " attempts, next_attempt_at, created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
)

app = Flask(__name__)
_local = threading.local()


class Database:
    """One DB-API connection and the dialect's placeholders and write-lock statements."""

    def __init__(self, url: str):
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.connection = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
            for pragma in ("busy_timeout = 30000", "foreign_keys = ON", "journal_mode = WAL"):
                self.connection.execute(f"PRAGMA {pragma}")
            self.connection.execute("PRAGMA synchronous = NORMAL")
            self.placeholder, self.lock_suffix = "?", ""
        else:
            import psycopg  # only the PostgreSQL half needs it

            self.connection = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
            self.placeholder, self.lock_suffix = "%s", " FOR UPDATE"
        self.sql = {
            name: statement.format(p=self.placeholder)
            for name, statement in globals().items()
            if name.isupper() and isinstance(statement, str) and "{p}" in statement
        }

    def begin(self, write: bool) -> None:
        """As eventreg's engine: BEGIN IMMEDIATE for writes on SQLite; psycopg begins itself."""
        if self.is_sqlite:
            self.connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def one(self, name: str, params: tuple, suffix: str = ""):
        return self.connection.execute(self.sql[name] + suffix, params).fetchone()

    def run(self, name: str, params: tuple) -> None:
        self.connection.execute(self.sql[name], params)

    def commit(self) -> None:
        if self.is_sqlite:
            self.connection.execute("COMMIT")
        else:
            self.connection.commit()

    def rollback(self) -> None:
        if self.is_sqlite:
            self.connection.execute("ROLLBACK")
        else:
            self.connection.rollback()


def _database() -> Database:
    if not hasattr(_local, "database"):
        _local.database = Database(os.environ["EVENTREG_SQLALCHEMY_DATABASE_URI"])
    return _local.database


def _now(database: Database):
    moment = datetime.now(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ") if database.is_sqlite else moment


@app.get("/healthz")
def healthz():
    """Ready: the harness waits for this answer before loading."""
    return {"ok": True}


@app.post("/api/v1/events/<slug>/registrations")
def sign_up(slug):
    """The statements of one API sign-up; 201 with a reference and the status."""
    person = request.get_json()
    database = _database()
    database.begin(write=True)
    event = database.one("LOCK_EVENT", (slug, "draft"), database.lock_suffix)
    if event is None:
        database.rollback()
        abort(404)
    event_id, capacity = event[0], event[3]
    standing = database.one(
        "STANDING", ("confirmed", "waitlisted", person["email"], "cancelled", event_id)
    )
    confirmed, waiting, taken = standing[1:]
    if taken:
        database.rollback()
        return {"error": "already_registered"}, 409
    status = "confirmed" if capacity is None or confirmed < capacity else "waitlisted"
    now = _now(database)
    registrant_id = database.one(
        "INSERT_REGISTRANT",
        (
            person["first_name"],
            person["last_name"],
            f"{person['first_name']} {person['last_name']}".lower(),
            person["email"],
            person["organisation"],
            None,
            person["country"],
            person["target_group"],
            None,
            person["language"],
            None,
            False,
            now,
            "bench",
            secrets.token_urlsafe(24),
            None,
            now,
            now,
        ),
    )[0]
    reference = "ER-" + secrets.token_hex(4).upper()
    registration_id = database.one(
        "INSERT_REGISTRATION",
        (
            reference,
            registrant_id,
            event_id,
            status,
            secrets.token_urlsafe(24),
            now,
            now if status == "confirmed" else None,
            None,
            1 if status == "confirmed" else 0,
            None,
            None,
            None,
            None,
        ),
    )[0]
    details = json.dumps({"status": status})
    database.run("INSERT_AUDIT", ("signed_up", registration_id, event_id, None, details, now))
    if status == "confirmed":
        kind, params = "confirmation", {"sequence": 1}
    else:
        kind, params = "waitlisted", {"position": waiting + 1}
    message_id = make_msgid(domain="eventreg.localhost")
    row = (kind, registration_id, person["email"], json.dumps(params), message_id, "pending")
    database.run("INSERT_OUTBOX", (*row, 0, now, now))
    database.commit()
    return {"reference": reference, "status": status, "event": slug}, 201
