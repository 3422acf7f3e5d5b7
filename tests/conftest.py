"""Fixtures: an app on a real SQLite file or a real PostgreSQL server, clients, factories."""

import asyncio
import email
import email.policy
import itertools
import os
import shutil
import socket
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from eventreg import create_app
from eventreg.extensions import db
from eventreg.models import Event, EventKind, EventMode, Role, TargetGroup, utcnow
from eventreg.services import accounts, registrations

pytest_plugins = ["tests.browser_fixtures"]

IN_CI = os.environ.get("CI") == "true"
POSTGRES_URL = os.environ.get("EVENTREG_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]
PASSWORD = "correct horse battery"


def base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "MAIL_SUPPRESS_SEND": False,  # Flask-Mail would otherwise drop mail in testing mode
        "RATELIMIT_ENABLED": False,  # tests of the limits switch them on
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "eventreg.test",
    }


class RequestClient(FlaskClient):
    """Each request gets its own app context (own ``g``, own db session) as in production.

    Afterwards the test's own session leaves its snapshot, so it sees what the request wrote.
    """

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)  # streamed bodies finish inside their context
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.rollback()
        return response


def pytest_collection_modifyitems(config, items):
    """Tests marked for one database run only there (deselected, never skipped, elsewhere)."""
    keep, drop = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("backend")
        only = "sqlite" if item.get_closest_marker("sqlite_only") else None
        only = "postgresql" if item.get_closest_marker("postgresql_only") else only
        (drop if only and backend and backend != only else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _migrated(url: str) -> None:
    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file migrated once; each test works on a copy of it."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _migrated(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A migrated PostgreSQL database of this test worker's own."""
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true but EVENTREG_TEST_POSTGRES_URL is not set (see scripts/test)")
        pytest.skip("PostgreSQL is not available here; scripts/test starts it when installed")
    name = f"eventreg_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    _migrated(url)
    return url


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def database_url(request, backend, tmp_path):
    if backend == "sqlite":
        path = tmp_path / "eventreg.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on this test's database; extra config overrides the test defaults."""
    apps = []

    def _make(**overrides):
        config = base_config(database_url) | overrides
        app = create_app(config)
        app.test_client_class = RequestClient
        app.instance_path = str(tmp_path / "instance")
        apps.append(app)
        return app

    yield _make
    for app in apps:
        with app.app_context():
            db.session.remove()
            if app is apps[0] and db.engine.dialect.name == "postgresql":
                _empty_tables()
            db.engine.dispose()


def _empty_tables() -> None:
    """The PostgreSQL database is shared by a worker's tests: leave it empty for the next."""
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app_config():
    """Config for the ``app`` fixture; a test module overrides it to change settings."""
    return {}


@pytest.fixture
def app(make_app, app_config):
    app = make_app(**app_config)
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


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
        db.session.add(event)
        db.session.commit()
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what it receives; it can stall or refuse on demand."""

    def __init__(self):
        self.envelopes = []
        self.stall_at_message: int | None = None  # stall MAIL FROM of the n-th message (1-based)
        self.mail_from_count = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_from_count += 1
        if self.mail_from_count == self.stall_at_message:
            await asyncio.sleep(60)
            return "451 Try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self):
        return [
            email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes
        ]

    def wait_for(self, count: int, timeout: float = 10) -> list:
        """Delivery is asynchronous: wait until ``count`` messages arrived."""
        deadline = time.monotonic() + timeout
        while len(self.envelopes) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


class SmtpServer:
    def __init__(self, port: int):
        self.port = port
        self.inbox = Inbox()
        self._controller = None

    def start(self):
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp():
    """A real SMTP server on loopback, started; ``smtp.stop()``/``start()`` to take it down."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def smtp_config(server: SmtpServer) -> dict:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": server.port,
        "OUTBOX_BACKOFF_SECONDS": 0,
        "BASE_URL": "http://eventreg.test",
    }
