"""REDIS_URL: app servers share the page cache and rate limits, and carry on without Redis.

Each app here stands for one app server (its own cache object, engine and sessions) on the
same database; a real redis-server runs on a loopback port. tests/test_scaleout.py checks the
same across real processes behind nginx.
"""

import itertools
import logging
import os
import shutil
from datetime import timedelta

import pytest
import redis

from bench.cluster import Redis, wait_for
from eventreg.extensions import limiter
from eventreg.models import utcnow
from eventreg.services import accounts
from tests.support.booklet import count_booklet_builds
from tests.support.factories import person

IN_CI = os.environ.get("CI") == "true"
UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture(scope="module")
def redis_binary():
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("CI=true but redis-server is not installed (.ci/run installs it)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")


@pytest.fixture
def redis_server(redis_binary, tmp_path):
    """A private Redis for this test, stopped (by PID) at the end."""
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_limiter():
    """The limiter is one object per process; a test that killed its storage must not leak."""
    yield
    limiter._storage_dead = False


@pytest.fixture
def make_server(make_app, redis_server):
    """An app server on the shared database and Redis."""

    def _make(**overrides):
        return make_app(**{"REDIS_URL": redis_server.url, "PAGE_CACHE_SECONDS": 60} | overrides)

    return _make


def seats_left(app, event) -> int:
    with app.app_context():
        return app.test_client().get(f"/api/v1/events/{event.slug}").get_json()["seats_left"]


def sign_up(app, event):
    with app.app_context():
        return app.test_client().post(
            f"/api/v1/events/{event.slug}/registrations", json=person() | {"consent": True}
        )


def test_a_sign_up_on_one_server_makes_every_servers_pages_stale_at_once(make_server, make_event):
    event = make_event(capacity=10)
    first, second = make_server(), make_server()
    assert seats_left(second, event) == 10  # stored for 60 s

    assert sign_up(first, event).status_code == 201

    assert seats_left(second, event) == 9
    assert seats_left(first, event) == 9


def redis_commands(client: redis.Redis) -> dict[str, int]:
    """The commands Redis ran since the last call, by name (its own statistics, then reset)."""
    stats = client.info("commandstats")
    client.config_resetstat()
    return {
        name.removeprefix("cmdstat_"): figures["calls"]
        for name, figures in stats.items()
        if name not in ("cmdstat_info", "cmdstat_config|resetstat", "cmdstat_hello")
    }


def test_a_stored_page_is_one_round_trip_to_redis(make_server, make_event, redis_server):
    """The generation and the page are read together: a round trip is most of a stored page's
    cost behind a shared cache (bench/findings.md)."""
    event = make_event(capacity=10)
    server = make_server()
    url = f"/events/{event.slug}"
    counter = redis.Redis.from_url(redis_server.url)
    with server.app_context():
        client = server.test_client()
        rendered = client.get(url)
        redis_commands(counter)

        stored = client.get(url)

    assert redis_commands(counter) == {"mget": 1}
    assert stored.status_code == 200 and stored.data == rendered.data  # same visitor, same token


def test_a_page_stored_in_an_earlier_generation_is_not_served(
    make_server, make_event, redis_server
):
    """Pages are kept under keys without the generation: one rendered before a write on
    another server may still be there, and must not be served."""
    event = make_event(capacity=10)
    first, second = make_server(), make_server()
    assert seats_left(second, event) == 10
    keys = redis.Redis.from_url(redis_server.url).keys("eventreg:page:*")
    assert len(keys) == 1

    assert sign_up(first, event).status_code == 201

    assert redis.Redis.from_url(redis_server.url).keys("eventreg:page:*") == keys  # still there
    assert seats_left(second, event) == 9


def test_without_redis_each_server_keeps_its_own_pages(make_app, make_event):
    """What REDIS_URL fixes: a page stored on one server does not see the other's write."""
    event = make_event(capacity=10)
    first, second = make_app(PAGE_CACHE_SECONDS=60), make_app(PAGE_CACHE_SECONDS=60)
    assert seats_left(second, event) == 10

    assert sign_up(first, event).status_code == 201

    assert seats_left(second, event) == 10


def test_rate_limits_are_counted_in_redis(make_server, make_event, redis_server):
    event = make_event()
    server = make_server(RATELIMIT_ENABLED=True, RATELIMIT_API="2 per minute")
    with server.app_context():
        client = server.test_client()
        # Rendered answers count (a new query each time: stored pages are free).
        urls = [f"/api/v1/events/{event.slug}?n={n}" for n in range(3)]
        assert [client.get(url).status_code for url in urls] == [200, 200, 429]
    keys = redis.Redis.from_url(redis_server.url).keys("*LIMITER*")
    assert keys == [b"LIMITS:LIMITER/eventreg/127.0.0.1/api.get_event/2/1/minute"]


def test_when_redis_goes_away_sign_ups_keep_working_and_the_log_says_so(
    make_server, make_event, redis_server, caplog
):
    event = make_event(capacity=10)
    server = make_server(RATELIMIT_ENABLED=True, RATELIMIT_API="5 per minute")
    assert seats_left(server, event) == 10
    redis_server.stop()

    with caplog.at_level(logging.WARNING):
        answers = [sign_up(server, event).status_code for _ in range(3)]
        assert seats_left(server, event) == 7  # rendered, not served from the cache
        with server.app_context():
            assert server.test_client().get("/").status_code == 200
            # The limit still holds, counted in this process's memory meanwhile.
            client = server.test_client()
            assert [client.get("/api/v1/events").status_code for _ in range(6)][-2:] == [200, 429]

    assert answers == [201, 201, 201]
    logged = caplog.text
    assert "Page cache unreachable" in logged
    assert "Rate limit storage unreachable - falling back to in-memory storage" in logged


def test_when_redis_is_back_pages_are_shared_again_and_none_is_stale(
    make_server, make_event, redis_server, caplog, monkeypatch
):
    monkeypatch.setattr("eventreg.page_cache.RETRY_SECONDS", 0)  # ask Redis again at once
    event = make_event(capacity=10)
    first, second = make_server(), make_server()
    assert seats_left(second, event) == 10  # stored before the outage
    redis_server.stop()
    assert sign_up(first, event).status_code == 201  # could not mark pages stale
    assert seats_left(second, event) == 9  # rendered while Redis is away

    redis_server.start()  # empty, as a restarted Redis without persistence comes back
    with caplog.at_level(logging.WARNING):
        assert seats_left(second, event) == 9
        assert sign_up(first, event).status_code == 201
        assert seats_left(second, event) == 8  # stored again, and made stale across servers
    assert "Page cache reachable again" in caplog.text


def test_when_redis_is_back_the_limits_are_counted_there_again(
    make_server, make_event, redis_server, caplog
):
    event = make_event()
    server = make_server(RATELIMIT_ENABLED=True)
    redis_server.stop()
    with server.app_context():
        client = server.test_client()
        assert client.get(f"/api/v1/events/{event.slug}").status_code == 200  # in memory
        redis_server.start()
        limits = redis.Redis.from_url(redis_server.url)
        reads = itertools.count()  # a new query each time: rendered answers count, stored don't
        with caplog.at_level(logging.INFO):
            # Flask-Limiter asks a dead storage again after 1, 2, 4 ... seconds.
            wait_for(
                lambda: (
                    client.get(f"/api/v1/events/{event.slug}?n={next(reads)}").status_code == 200
                    and bool(limits.keys("*LIMITER*"))
                ),
                20,
                "the limits were not counted in Redis again",
                interval=0.2,
            )
        limits.close()
    assert "Rate limit storage recovered" in caplog.text


def test_pages_stored_before_an_outage_are_not_served_after_it(
    make_server, make_event, monkeypatch
):
    """One server loses Redis for a while: its writes meanwhile could not mark pages stale."""
    monkeypatch.setattr("eventreg.page_cache.RETRY_SECONDS", 0)
    event = make_event(capacity=10)
    reader = make_server()
    assert seats_left(reader, event) == 10  # stored in Redis for 60 s
    cut_off = make_server(REDIS_URL=UNREACHABLE)
    assert sign_up(cut_off, event).status_code == 201
    assert seats_left(reader, event) == 10  # nobody could tell the reader yet

    # The connection comes back (the reader's cache object talks to the same Redis): the first
    # thing the cut-off server does with it is to make every stored page stale.
    cut_off.extensions["cache"] = reader.extensions["cache"]
    assert seats_left(cut_off, event) == 9
    assert seats_left(reader, event) == 9


def test_healthz_reports_redis(make_server, redis_server):
    server = make_server()
    with server.app_context():
        client = server.test_client()
        assert client.get("/healthz").get_json()["redis"] == "ok"
        redis_server.stop()
        answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json() | {"outbox": None} == {
        "status": "degraded",
        "database": "ok",
        "redis": "unavailable",
        "outbox": None,
    }


def test_when_redis_goes_away_check_ins_keep_working(
    make_server, make_event, make_user, sign_up, redis_server
):
    now = utcnow()
    event = make_event(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=7))
    (registration,) = sign_up(event).registrations
    token = accounts.issue_api_token(make_user("organiser"))
    server = make_server(RATELIMIT_ENABLED=True)
    redis_server.stop()

    with server.app_context():
        answer = server.test_client().post(
            "/api/v1/checkin",
            json={"secret": registration.ticket_secret, "event": event.slug},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert answer.status_code == 200
    assert answer.get_json()["result"] == "ok"


def test_the_booklet_pdf_is_built_once_for_every_server_and_served_without_redis(
    make_server, redis_server, monkeypatch, caplog
):
    built = count_booklet_builds(monkeypatch)
    first, second = make_server(), make_server()
    path = "/practices/document.pdf?lang=en"
    with first.app_context():
        on_first = first.test_client().get(path)
    with second.app_context():
        on_second = second.test_client().get(path)
    assert on_first.status_code == 200 and on_second.data == on_first.data
    assert len(built) == 1  # the second server found the first one's PDF in Redis

    redis_server.stop()
    with caplog.at_level(logging.WARNING), second.app_context():
        without_redis = second.test_client().get(path)
    assert without_redis.status_code == 200 and without_redis.data.startswith(b"%PDF")
    assert len(built) == 2
    assert "Booklet cache unavailable" in caplog.text
