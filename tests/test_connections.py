"""Pooled database connections: checked before use only after being idle, replaced when dead.

A check on every checkout (``pool_pre_ping``) cost a round trip on every request; a
connection used moments ago is alive. PostgreSQL's connections are closed here by the server
itself (``pg_terminate_backend``), as a restart or an idle timeout would close them.
"""

import pytest
import sqlalchemy as sa

from eventreg.extensions import db

UNCACHED = {"PAGE_CACHE_SECONDS": 0}  # every request reads the database
PING_ALWAYS = UNCACHED | {"DATABASE_PING_AFTER_IDLE_SECONDS": 0}


@pytest.fixture
def pings(app, monkeypatch):
    """How many times the dialect's real ping ran (it still runs)."""
    dialect = db.engine.dialect
    ping = dialect.do_ping
    counted = []

    def counting(dbapi_connection):
        counted.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    return counted


def close_connections_from_the_server(database_url: str) -> int:
    """End every other session on the test's database, as a server restart would."""
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        admin.dispose()


@pytest.mark.parametrize("app_config", [PING_ALWAYS])
def test_only_server_connections_idle_long_enough_are_pinged(
    app, client, make_event, pings, backend
):
    event = make_event()
    for _ in range(3):
        assert client.get(f"/events/{event.slug}").status_code == 200
    # A SQLite file is never closed under us; a server's connection counts as idle at once here.
    assert len(pings) == (0 if backend == "sqlite" else 3)


@pytest.mark.parametrize("app_config", [UNCACHED])
def test_a_connection_used_moments_ago_is_not_pinged(app, client, make_event, pings):
    event = make_event()
    for _ in range(3):
        assert client.get(f"/events/{event.slug}").status_code == 200
    assert pings == []  # the default waits 5 s of idleness


def answers_after_the_server_closes_connections(client, event, database_url, requests):
    """A page served (pooling a connection), the server's connections closed, then ``requests``
    more of it: their statuses."""
    assert client.get(f"/events/{event.slug}").status_code == 200
    assert close_connections_from_the_server(database_url) >= 1
    return [client.get(f"/events/{event.slug}").status_code for _ in range(requests)]


@pytest.mark.postgresql_only
@pytest.mark.parametrize("app_config", [PING_ALWAYS])
def test_an_idle_connection_the_server_closed_is_replaced_before_use(
    app, client, make_event, database_url
):
    after = answers_after_the_server_closes_connections(client, make_event(), database_url, 1)
    assert after == [200]


@pytest.mark.postgresql_only
@pytest.mark.parametrize("app_config", [UNCACHED])
def test_a_connection_closed_moments_after_use_fails_one_request_then_the_pool_recovers(
    app, client, make_event, database_url
):
    # The price of not pinging busy connections: a restart right after a request costs the
    # next one, and the pool then replaces every connection it held.
    after = answers_after_the_server_closes_connections(client, make_event(), database_url, 2)
    assert after == [500, 200]
