"""E-mail under load: sign-ups next to a sender whose SMTP server stalls, and the ticket's cost.

Two measurements of issue 7:

- **Mail off the request path.** eventreg runs as in production, gunicorn next to
  ``flask mail worker``, delivering to a real SMTP server on loopback (aiosmtpd). API sign-ups
  are loaded by wrk twice, each time on a fresh copy of the database: once with a server that
  accepts at once, once with one that stalls 2 s on every message. A sign-up only writes its
  confirmation to the outbox, so its p95 must stay within 1.1x of the instant server's.
- **Ticket cost.** In-process: the time to build one confirmation (QR code, ``.ics``, MIME),
  and the outbox's send rate when each batch shares one SMTP connection against one
  connection per message (``OUTBOX_BATCH_SIZE`` 50 against 1), through ``deliver_all``.
"""

import asyncio
import os
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import sqlalchemy as sa
from aiosmtpd.controller import Controller

from eventreg.extensions import db
from eventreg.models import OutboxMessage, TargetGroup
from eventreg.services import events, outbox, registrations
from eventreg.services.notifications import build_message

from .app import app_on
from .databases import Copies
from .rush import rush
from .server import cpu_seconds, free_port, gunicorn, venv_command
from .settings import MAIL_SENDERS, SIGNUP_EVENT, TICKET_EVENT, WORKER_SETUPS, Sizes
from .wrk import run_wrk

STALL_S = 2.0
CONFIRMATIONS_GOAL_S = 60  # the last confirmation leaves at most this long after the last sign-up
DELIVERY_TIMEOUT_S = 600
P95_GOAL = 1.1  # the stalling server's sign-up p95 as a multiple of the instant one's
CONNECTION_REUSE_BATCH = 50  # the default OUTBOX_BATCH_SIZE


class Sink:
    """An aiosmtpd handler that accepts every message, optionally after a stall."""

    def __init__(self, stall_s: float):
        self.stall_s = stall_s
        self.received = 0
        self.last_at: float | None = None  # time.monotonic() of the last message accepted
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.stall_s:
            await asyncio.sleep(self.stall_s)
        with self._lock:
            self.received += 1
            self.last_at = time.monotonic()
        return "250 OK"


@contextmanager
def smtp_sink(stall_s: float = 0.0) -> Iterator[tuple[int, Sink]]:
    """A real SMTP server on a free loopback port; yields its port and its handler."""
    sink = Sink(stall_s)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, sink
    finally:
        controller.stop()


def mail_env(port: int) -> dict[str, str]:
    """The settings production uses to send through an SMTP server."""
    return {"EVENTREG_MAIL_SERVER": "127.0.0.1", "EVENTREG_MAIL_PORT": str(port)}


@contextmanager
def mail_worker(root: Path, env: dict[str, str], log_path: Path) -> Iterator[int]:
    """``flask mail worker`` as scripts/run starts it, stopped with SIGTERM (then killed)."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [venv_command("flask"), "--app", "eventreg", "mail", "worker"],
            cwd=root,
            env=os.environ | env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:  # it stops between messages; a stalled one takes STALL_S
            process.wait(timeout=STALL_S * 5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def mail_off_request_path(
    copies: Copies, service: dict[str, str], sizes: Sizes, root: Path, workdir: Path, label: str
) -> dict:
    """API sign-up latency with an instant SMTP server and with one that stalls on each message."""
    runs = {}
    for name, stall in (("instant", 0.0), ("stalling", STALL_S)):
        with copies() as url, smtp_sink(stall) as (port, sink):
            env = service | mail_env(port) | {"EVENTREG_SQLALCHEMY_DATABASE_URI": url}
            log = workdir / f"mail-{label}-{name}.log"
            with mail_worker(root, env, log), gunicorn(root, "wsgi:app", env, log, "/") as base:
                target = f"{base}/api/v1/events/{SIGNUP_EVENT}/registrations"
                if sizes.warmup_s:
                    run_wrk(target, "signup_api.lua", [f"{name}-warmup"], sizes, sizes.warmup_s)
                figures = run_wrk(
                    target, "signup_api.lua", [f"{name}-load"], sizes, sizes.duration_s
                )
                figures["delivered_during_load"] = sink.received
            figures["queued"] = _outbox_size(url)
        runs[name] = figures | {"stall_s": stall}
    ratio = runs["stalling"]["p95_ms"] / runs["instant"]["p95_ms"]
    return runs | {"p95_ratio": round(ratio, 3), "goal": P95_GOAL, "meets_goal": ratio <= P95_GOAL}


def confirmations_after_rush(
    copies: Copies, service: dict[str, str], sizes: Sizes, root: Path, workdir: Path, label: str
) -> dict:
    """The rush's sign-ups for an in-person event, every one a seat with its QR ticket; how
    long after the last sign-up the last confirmation reaches an instant SMTP server.

    gunicorn (sync workers) answers the rush while ``MAIL_SENDERS`` ``flask mail worker``
    processes share the outbox (leases: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write
    lock on SQLite), as ``scripts/run`` starts one and a busier site starts more.
    """
    requests = sizes.rush_requests
    with copies() as url, smtp_sink() as (port, sink), ExitStack() as stack:
        env = service | WORKER_SETUPS["sync"] | mail_env(port)
        env |= {"EVENTREG_SQLALCHEMY_DATABASE_URI": url}
        log = workdir / f"confirmations-{label}.log"
        base = stack.enter_context(gunicorn(root, "wsgi:app", env, log, "/"))
        senders = [stack.enter_context(mail_worker(root, env, log)) for _ in range(MAIL_SENDERS)]
        cpu_before = cpu_seconds(senders)
        started = time.monotonic()
        crowd = rush(base, TICKET_EVENT, requests, requests, sizes.rush_concurrency)
        last_sign_up = time.monotonic()
        delivered_by_last_sign_up = sink.received
        deadline = last_sign_up + DELIVERY_TIMEOUT_S
        while sink.received < crowd["confirmed"] and time.monotonic() < deadline:
            time.sleep(0.05)
        last_delivery = sink.last_at or time.monotonic()
        sender_cpu = cpu_seconds(senders) - cpu_before
    after = max(last_delivery - last_sign_up, 0.0)
    return {
        "sign_ups": requests,
        "confirmed": crowd["confirmed"],
        "senders": MAIL_SENDERS,
        "delivered": sink.received,
        "rush_seconds": round(last_sign_up - started, 2),
        "delivered_during_rush": delivered_by_last_sign_up,
        "last_delivery_after_last_sign_up_s": round(after, 2),
        "messages_per_s": round(sink.received / max(last_delivery - started, 1e-9), 1),
        # The senders' CPU (user + system) per message sent: building it, sending, the outbox.
        "sender_cpu_ms_per_message": round(sender_cpu * 1000 / max(sink.received, 1), 2),
        "goal_s": CONFIRMATIONS_GOAL_S,
        "meets_goal": sink.received == crowd["confirmed"] == requests
        and after <= CONFIRMATIONS_GOAL_S,
    }


def _outbox_size(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    finally:
        engine.dispose()


def ticket_cost(copies: Copies, messages: int) -> dict:
    """Building one confirmation, and the send rate with and without connection reuse."""
    with smtp_sink() as (port, sink):
        build = _build_times(copies, messages)
        rates = {
            key: _send_rate(copies, port, sink, messages, batch)
            for key, batch in (("reused_connection", CONNECTION_REUSE_BATCH), ("per_message", 1))
        }
    return {
        "messages": messages,
        "build_ms": build,
        "send_per_s": rates,
        "reuse_speed_up": round(rates["reused_connection"] / rates["per_message"], 2),
    }


def _build_times(copies: Copies, messages: int) -> dict:
    """Milliseconds to build each queued confirmation, as the sender does before sending."""
    with copies() as url:
        app = app_on(url)
        with app.app_context():
            ids = _queue_confirmations(messages)
            times = []
            for message_id in ids:
                started = time.perf_counter()
                build_message(db.session.get(OutboxMessage, message_id)).as_bytes()
                times.append((time.perf_counter() - started) * 1000)
            db.engine.dispose()
    return {"mean": round(statistics.fmean(times), 2), "p50": round(statistics.median(times), 2)}


def _send_rate(copies: Copies, port: int, sink: Sink, messages: int, batch: int) -> float:
    """Messages a second that ``deliver_all`` sends with the given batch size."""
    with copies() as url:
        app = app_on(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, OUTBOX_BATCH_SIZE=batch)
        with app.app_context():
            _queue_confirmations(messages)
            before = sink.received
            started = time.perf_counter()
            report = outbox.deliver_all(max_rounds=messages + 1)
            elapsed = time.perf_counter() - started
            db.engine.dispose()
    if report.sent != messages or sink.received - before != messages:
        raise RuntimeError(f"sent {report.sent} of {messages} messages (batch size {batch})")
    return round(messages / elapsed, 1)


def _queue_confirmations(count: int) -> list[int]:
    """Sign ``count`` people up for the in-person event; the ids of their queued confirmations."""
    event = events.find(TICKET_EVENT)
    for number in range(count):
        registrations.sign_up(_person(number), [event], "bench")
    return list(db.session.scalars(sa.select(OutboxMessage.id).order_by(OutboxMessage.id)))


def _person(number: int) -> registrations.PersonDetails:
    return registrations.PersonDetails(
        first_name="Ticket",
        last_name=f"Person {number}",
        email=f"ticket-{number}@example.org",
        organisation="Bench Cooperative",
        country="IT",
        target_group=TargetGroup.SOCIAL_ECONOMY,
        language="en",
    )
