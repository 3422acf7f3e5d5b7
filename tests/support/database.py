"""The app on a real SQLite file or a real PostgreSQL server: config, request client, databases.

Every test that asks for ``app`` (or ``make_app``) runs twice, once per backend; tests marked
``sqlite_only``/``postgresql_only`` run on one (deselected, never skipped, on the other).
"""

import os
import shutil
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from eventreg import create_app
from eventreg.extensions import db

IN_CI = os.environ.get("CI") == "true"
POSTGRES_URL = os.environ.get("EVENTREG_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]


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


def require_postgres() -> None:
    """No PostgreSQL server: a failure in CI, a skip elsewhere."""
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true but EVENTREG_TEST_POSTGRES_URL is not set (see scripts/test)")
        pytest.skip("PostgreSQL is not available here; scripts/test starts it when installed")


@pytest.fixture(scope="session")
def postgres_url():
    """A migrated PostgreSQL database of this test worker's own."""
    require_postgres()
    url = empty_postgres_database("eventreg_test")
    _migrated(url)
    return url


@contextmanager
def migrated_from(revision, backend, tmp_path):
    """An app on a new database of its own, migrated up to ``revision``; ``upgrade_rest()``
    takes it to the newest."""
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    if backend == "postgresql":
        require_postgres()
        url = empty_postgres_database("eventreg_test_upgrade")
    app = create_app({"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision=revision)
        try:
            yield upgrade
        finally:
            db.session.remove()
            db.engine.dispose()


def empty_postgres_database(prefix: str) -> str:
    """A new, empty database of this test worker's own on the test server; its URL."""
    name = f"{prefix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


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
        # A live server's request thread or a subprocess the test started may still hold a
        # connection mid-query: end them first, or TRUNCATE's locks deadlock with theirs and
        # every later test on this worker inherits the rows.
        conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
