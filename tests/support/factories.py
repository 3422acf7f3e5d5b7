"""Factories: events, people, sign-ups and staff accounts, and logging in as staff."""

import itertools
from datetime import timedelta

import pytest

from eventreg.database import write_transaction
from eventreg.extensions import db
from eventreg.models import (
    Event,
    EventKind,
    EventMode,
    Member,
    MemberStatus,
    Registration,
    Role,
    TargetGroup,
    utcnow,
)
from eventreg.services import accounts, registrations

PASSWORD = "correct horse battery"

_slugs = itertools.count(1)


@pytest.fixture
def make_event(app):
    """Create an event whose registration is open, starting in three weeks; override anything."""

    def _make(**overrides) -> Event:
        now = utcnow()
        values = {
            "slug": f"event-{next(_slugs)}",
            "title": "Study mission to Bergamo",
            "description": "Responsible procurement of social services.",
            "kind": EventKind.MISSION,
            "mode": EventMode.IN_PERSON,
            "timezone": "Europe/Rome",
            "starts_at": now + timedelta(days=21),
            "ends_at": now + timedelta(days=22),
            "city": "Bergamo",
            "venue": "Palazzo Frizzoni",
            "host_partner": "Comune di Bergamo",
            "capacity": 10,
            "registration_opens_at": now - timedelta(days=1),
            "registration_closes_at": now + timedelta(days=14),
        } | overrides
        event = Event(**values)
        with write_transaction():  # as the app writes, also inside a test's request context
            db.session.add(event)
        return event

    return _make


_people = itertools.count(1)


def person(**overrides) -> dict:
    """Valid sign-up fields for a new person (form and API share the names)."""
    n = next(_people)
    return {
        "first_name": "Giulia",
        "last_name": f"Rossi {n}",
        "email": f"giulia.rossi{n}@example.org",
        "organisation": "Cooperativa Sociale Città Aperta",
        "country": "IT",
        "target_group": "social_economy",
        "language": "en",
    } | overrides


def details(**overrides) -> registrations.PersonDetails:
    values = person(**overrides)
    values["target_group"] = TargetGroup(values["target_group"])
    return registrations.PersonDetails(**values)


@pytest.fixture
def sign_up(app):
    """Sign a new person up through the service; returns the registrant."""

    def _sign_up(*events, **overrides):
        return registrations.sign_up(details(**overrides), list(events), "test")

    return _sign_up


@pytest.fixture
def added(make_user):
    """Add someone to an event already held, as organisers do (the public can no longer)."""
    organiser = make_user("organiser", "records@example.org")

    def _add(event, **overrides) -> Registration:
        person = registrations.sign_up(details(**overrides), [event], "test", actor=organiser)
        return person.registrations[0]

    return _add


@pytest.fixture
def make_user(app):
    def _make(role: Role | str, email: str | None = None):
        role = Role(role)
        return accounts.create_user(email or f"{role.value}@example.org", role, PASSWORD)

    return _make


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email, password=PASSWORD):
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


def active_member(name: str = "Ana Petrova", email: str = "ana@example.bg") -> Member:
    """A confirmed member of the network, from Gabrovo, writing in Bulgarian."""
    member = Member(
        email=email,
        name=name,
        country="BG",
        target_group=TargetGroup.LOCAL_REGIONAL_AUTHORITY,
        language="bg",
        status=MemberStatus.ACTIVE,
    )
    db.session.add(member)
    db.session.commit()
    return member
