"""A gunicorn worker killed in the middle of sign-ups loses no acknowledged sign-up."""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import OutboxMessage, Registrant, Registration
from tests.support.factories import person
from tests.support.net import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def gunicorn(database_url, tmp_path):
    """The service under gunicorn as in production (sync workers), on this test's database."""
    port = free_port()
    env = os.environ | {
        "EVENTREG_SECRET_KEY": "test-secret-key",
        "EVENTREG_SQLALCHEMY_DATABASE_URI": database_url,
        "EVENTREG_RATELIMIT_ENABLED": "false",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_WORKER_CLASS": "sync",
        "GUNICORN_ACCESSLOG": str(tmp_path / "access.log"),
    }
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 (closed below, after the server)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/events", timeout=1)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                log.close()
                pytest.fail("gunicorn never answered:\n" + (tmp_path / "gunicorn.log").read_text())
            time.sleep(0.1)
    yield base, server
    server.terminate()
    server.wait(timeout=20)
    log.close()


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def post(url: str, body: dict) -> tuple[int, dict | None]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None
    except (OSError, http.client.HTTPException, ValueError):
        return 0, None  # the worker died with the connection open: not acknowledged


def test_killing_a_worker_mid_sign_ups_loses_nothing_acknowledged(gunicorn, make_event):
    base, server = gunicorn
    event = make_event(capacity=40)
    url = f"{base}/api/v1/events/{event.slug}/registrations"
    results: list[tuple[int, dict | None]] = []
    lock = threading.Lock()

    def sign_up_many(offset: int):
        for n in range(offset, offset + 15):
            outcome = post(url, person(email=f"k{n}@example.org") | {"consent": True})
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=sign_up_many, args=(i * 15,)) for i in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20  # kill a worker once sign-ups are going through
    while not any(status == 201 for status, _ in results) and time.monotonic() < deadline:
        time.sleep(0.01)
    victim = worker_pids(server.pid)[0]
    os.kill(victim, signal.SIGKILL)
    for thread in threads:
        thread.join()

    acknowledged = {body["reference"] for status, body in results if status == 201}
    assert len(results) == 90 and len(acknowledged) >= 45
    db.session.rollback()
    stored = set(db.session.scalars(select(Registration.reference)))
    assert acknowledged <= stored  # every acknowledged sign-up is in the database
    orphans = db.session.scalar(
        select(func.count()).select_from(Registrant).where(~Registrant.registrations.any())
    )
    unannounced = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            ~select(OutboxMessage.id)
            .where(OutboxMessage.registration_id == Registration.id)
            .exists()
        )
    )
    assert orphans == 0 and unannounced == 0  # nothing half-written
    confirmed = db.session.scalar(
        select(func.count()).where(
            Registration.status == "confirmed", Registration.event_id == event.id
        )
    )
    assert confirmed <= 40
