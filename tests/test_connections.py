"""Pooled database connections: checked before use only after being idle, replaced when dead;
the mail sender waiting out a database that is down.

A check on every checkout (``pool_pre_ping``) cost a round trip on every request; a
connection used moments ago is alive. PostgreSQL's connections are closed here by the server
itself (``pg_terminate_backend``), as a restart or an idle timeout would close them.
"""

import contextlib
import os
import socket
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from eventreg.extensions import db
from tests.support.net import free_port

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


class Gate:
    """A TCP relay to the database that lets nothing through until opened: the database seen
    from the mail sender is down, then back, while the test keeps its own connection."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self.listener = None
        self.sockets: list[socket.socket] = []

    def open(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
        for relayed in self.sockets:
            relayed.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.mark.postgresql_only
def test_the_mail_sender_waits_out_a_database_that_is_down(
    app, smtp, database_url, make_event, sign_up
):
    """``flask mail worker`` outlives a database that is unreachable, and sends once it is back
    (under scripts/run nothing would restart it)."""
    sign_up(make_event(), email="ana@example.org")
    url = sa.engine.make_url(database_url)
    gate = Gate((url.host, url.port))
    env = os.environ | {
        "EVENTREG_SECRET_KEY": "test-secret-key",
        "EVENTREG_SQLALCHEMY_DATABASE_URI": url.set(port=gate.port).render_as_string(False),
        "EVENTREG_MAIL_SERVER": "127.0.0.1",
        "EVENTREG_MAIL_PORT": str(smtp.port),
    }
    command = [sys.executable, "-m", "flask", "--app", "eventreg", "mail", "worker"]
    worker = subprocess.Popen(
        [*command, "--interval", "0.2"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        first = worker.stderr.readline()  # the first round met the closed gate
        assert "Database unavailable, trying again" in first, first
        assert worker.poll() is None
        gate.open()
        messages = smtp.inbox.wait_for(1, timeout=20)
        assert [m["To"].addresses[0].addr_spec for m in messages] == ["ana@example.org"]
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        worker.stderr.close()
        gate.close()
