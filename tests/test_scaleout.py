"""More than one machine, tested as it runs: PostgreSQL, Redis, two app servers behind nginx.

Each app server is gunicorn with sync workers and its own ``flask mail worker``, started as
``deploy/`` describes (bench/cluster.py; nginx serves deploy/nginx/eventreg.conf), all on
loopback ports. The five behaviours of issue 19, in the order they happen on a busy day.
"""

import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import threading
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from bench.cluster import Cluster, cluster, wait_for
from bench.databases import prepared_databases, write_bench_programme
from bench.mail import mail_env
from bench.rush import rush
from bench.server import free_port, service_env
from bench.settings import RUSH_EVENT, SIGNUP_EVENT

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"
POSTGRES_URL = os.environ.get("EVENTREG_TEST_POSTGRES_URL")
RUSH_SIGNUPS, RUSH_SEATS = 2000, 100
MANAGE_LIMIT = 6
_numbers = itertools.count(1)


class Mailbox:
    """An aiosmtpd handler that keeps the Message-ID of everything it accepts."""

    def __init__(self):
        self.message_ids: list[str] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        headers = BytesHeaderParser().parsebytes(envelope.content)
        with self._lock:
            self.message_ids.append(headers["Message-ID"].strip())
        return "250 OK"


@dataclass
class Site:
    running: Cluster
    mailbox: Mailbox
    database_url: str
    workdir: Path

    def log(self, name: str) -> str:
        return (self.workdir / name).read_text(errors="replace")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = [name for name in ("redis-server", "nginx") if shutil.which(name) is None]
    missing += [] if POSTGRES_URL else ["PostgreSQL (EVENTREG_TEST_POSTGRES_URL, scripts/test)"]
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true but missing: {', '.join(missing)} (.ci/run installs them)")
        pytest.skip(f"missing: {', '.join(missing)}")
    workdir = tmp_path_factory.mktemp("scaleout")
    programme = write_bench_programme(workdir / "programme.toml", RUSH_SEATS)
    mailbox = Mailbox()
    smtp_port = free_port()
    with ExitStack() as stack:
        copies = stack.enter_context(
            prepared_databases("postgresql", workdir, POSTGRES_URL, ROOT, programme)
        )
        url = stack.enter_context(copies())
        controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        stack.callback(controller.stop)
        env = service_env(url, secrets.token_hex(32)) | mail_env(smtp_port)
        env |= {
            "EVENTREG_RATELIMIT_MANAGE": f"{MANAGE_LIMIT} per minute",
            "EVENTREG_PAGE_CACHE_SECONDS": "30",  # only a write may make a page stale here
            "EVENTREG_OUTBOX_BATCH_SIZE": "10",
        }
        running = stack.enter_context(cluster(ROOT, env, workdir, mail=True))
        yield Site(running, mailbox, url, workdir)


@pytest.fixture(scope="module")
def rushed(site):
    """2,000 people sign up for 100 seats through nginx, 32 at a time."""
    return rush(site.running.base_url, RUSH_EVENT, RUSH_SIGNUPS, RUSH_SEATS, concurrency=32)


def request(base_url, method, path, body=None, source="127.0.0.1", headers=None):
    """One request on its own connection, from a chosen loopback address: (status, body)."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    try:
        payload = json.dumps(body) if body is not None else None
        kinds = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, payload, kinds | (headers or {}))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def sign_up(base_url, slug=SIGNUP_EVENT) -> int:
    number = next(_numbers)
    person = {
        "first_name": "Ana",
        "last_name": f"Silva {number}",
        "email": f"scaleout-{number}-{secrets.token_hex(3)}@example.pt",
        "organisation": "Cooperativa X",
        "country": "PT",
        "target_group": "social_economy",
        "language": "pt",
        "consent": True,
    }
    return request(base_url, "POST", f"/api/v1/events/{slug}/registrations", person)[0]


def listed(base_url, slug=SIGNUP_EVENT) -> tuple[int, int]:
    """Seats left and people waiting, as GET /api/v1/events shows them (cached for visitors)."""
    status, body = request(base_url, "GET", "/api/v1/events")
    assert status == 200
    (event,) = [event for event in json.loads(body)["events"] if event["slug"] == slug]
    return event["seats_left"], event["waitlist_length"]


def health(base_url) -> dict:
    status, body = request(base_url, "GET", "/healthz")
    return {"http_status": status} | json.loads(body)


def assert_a_sign_up_shows_at_once_on_the_other_server(site):
    first, second = site.running.instances
    before = listed(second)
    assert listed(second) == before  # stored, for 30 s
    assert sign_up(first) == 201
    seats, waiting = before
    assert listed(second) == ((seats - 1, waiting) if seats else (0, waiting + 1))


def test_a_sign_up_through_one_server_shows_at_once_on_the_other(site):
    assert_a_sign_up_shows_at_once_on_the_other_server(site)


def test_nginx_and_the_app_servers_log_personal_links_without_their_secret(site):
    secret = "Zm9vYmFy.Sx3-kQ_9aZ"
    referer = f"https://events.example.org/network/sign-in/{secret}x"
    status, _ = request(
        site.running.base_url, "GET", f"/manage/{secret}/confirmed", headers={"Referer": referer}
    )
    assert status == 404
    logs = {"nginx": site.workdir / "nginx" / "access.log"} | {
        name: site.workdir / name for name in ("app-1.log", "app-2.log")
    }
    wait_for(
        lambda: "/manage/[token]/confirmed" in logs["nginx"].read_text(), 10, "no nginx log line"
    )
    # gunicorn writes its access log after the answer has gone: wait for its line too.
    app_lines = lambda: "".join(logs[name].read_text() for name in ("app-1.log", "app-2.log"))  # noqa: E731
    wait_for(lambda: "/manage/[token]/confirmed" in app_lines(), 10, "no app server log line")
    for name, path in logs.items():
        assert secret not in path.read_text(), name
    assert "https://events.example.org/network/sign-in/[token]" in logs["nginx"].read_text()


def test_the_rate_limit_counts_one_client_address_across_both_servers(site):
    probe = secrets.token_hex(4)  # the log writes a link's token as [token]; the query stays
    path = f"/manage/not-a-token?probe={probe}"
    nginx = site.running.base_url
    answers = [request(nginx, "GET", path, source="127.0.0.2")[0] for _ in range(MANAGE_LIMIT)]
    assert answers == [404] * MANAGE_LIMIT
    assert request(nginx, "GET", path, source="127.0.0.2")[0] == 429
    assert request(nginx, "GET", path, source="127.0.0.3")[0] == 404  # another visitor
    # nginx sent the counted requests to both servers: the count was shared. gunicorn writes
    # its access log after the answer has gone, so wait for the last lines.

    def served():
        return [site.log(f"app-{number}.log").count(f"probe={probe} ") for number in (1, 2)]

    wait_for(lambda: sum(served()) == MANAGE_LIMIT + 2, 10, "the access logs lack requests")
    assert all(served()), served()


def test_the_rush_through_nginx_seats_exactly_as_many_as_there_are(site, rushed):
    queued = RUSH_SIGNUPS - RUSH_SEATS
    assert (rushed["confirmed"], rushed["waitlisted"]) == (RUSH_SEATS, queued)
    assert rushed["server_errors"] == 0 and rushed["other_answers"] == {}
    assert rushed["event_after"] == {"seats_left": 0, "waitlist_length": queued}
    engine = sa.create_engine(site.database_url)
    with engine.connect() as connection:
        statuses = dict(
            connection.execute(
                sa.text(
                    "SELECT r.status, count(*) FROM registration r JOIN event e"
                    " ON e.id = r.event_id WHERE e.slug = :slug GROUP BY r.status"
                ),
                {"slug": RUSH_EVENT},
            ).all()
        )
    engine.dispose()
    assert statuses == {"confirmed": RUSH_SEATS, "waitlisted": queued}


def test_both_mail_workers_together_deliver_every_message_once(site, rushed):
    nginx = site.running.base_url
    wait_for(
        lambda: health(nginx)["outbox"]["pending"] == 0,
        180,
        "the mail workers did not empty the outbox",
        interval=0.5,
    )
    engine = sa.create_engine(site.database_url)
    with engine.connect() as connection:
        by_status = dict(
            connection.execute(
                sa.text("SELECT status, count(*) FROM outbox_message GROUP BY status")
            ).all()
        )
        sent = set(
            connection.scalars(
                sa.text("SELECT message_id FROM outbox_message WHERE status = 'sent'")
            ).all()
        )
    engine.dispose()
    assert set(by_status) == {"sent"} and by_status["sent"] >= RUSH_SIGNUPS
    received = Counter(site.mailbox.message_ids)
    assert set(received) == sent
    assert max(received.values()) == 1  # none twice
    delivered = [_sent_by(site.log(f"mail-{number}.log")) for number in (1, 2)]
    assert all(delivered) and sum(delivered) == len(sent), delivered


def _sent_by(log: str) -> int:
    return sum(int(count) for count in re.findall(r"Sent (\d+) message", log))


class Traffic:
    """Sign-ups and page reads through nginx from a thread, until stopped (bounded)."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.answers: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self):
        for _ in range(5000):
            if self._stop.is_set():
                return
            self.answers.append(("sign-up", sign_up(self.base_url)))
            self.answers.append(("page", request(self.base_url, "GET", "/")[0]))
            self.answers.append(("api", request(self.base_url, "GET", "/api/v1/events")[0]))

    def wait_for_more(self, count: int) -> None:
        target = len(self.answers) + count
        wait_for(lambda: len(self.answers) >= target, 60, "the traffic stalled")


def every_worker_found_the_cache_again(site) -> bool:
    logs = site.log("app-1.log") + site.log("app-2.log")
    lost, found = logs.count("Page cache unreachable"), logs.count("Page cache reachable again")
    return found >= 1 and found == lost


def test_redis_stopped_mid_run_then_back(site):
    redis, servers = site.running.redis, site.running.instances
    with Traffic(site.running.base_url) as traffic:
        traffic.wait_for_more(9)
        redis.stop()
        traffic.wait_for_more(30)
        for server in servers:
            assert health(server) | {"outbox": None} == {
                "http_status": 200,
                "status": "degraded",
                "database": "ok",
                "redis": "unavailable",
                "outbox": None,
            }
        redis.start()
        wait_for(
            lambda: all(health(server)["redis"] == "ok" for server in servers),
            10,
            "/healthz did not see Redis back",
        )
        traffic.wait_for_more(30)
        # Each worker tries the cache again a second after its last failure, and the Redis
        # client reconnects with a back-off: wait until every worker that lost the cache says
        # it is back. A worker still waiting would skip the next write's invalidation (its
        # pages are renewed when it finds the cache again), so the check below would race it.
        wait_for(lambda: every_worker_found_the_cache_again(site), 30, "a worker is still without")

    failures = [(kind, status) for kind, status in traffic.answers if status >= 500]
    assert not failures
    assert {status for kind, status in traffic.answers if kind == "sign-up"} == {201}
    logs = site.log("app-1.log") + site.log("app-2.log")
    assert "Page cache unreachable" in logs
    assert "Rate limit storage unreachable - falling back to in-memory storage" in logs
    assert "Page cache reachable again" in logs
    assert_a_sign_up_shows_at_once_on_the_other_server(site)  # sharing resumed
