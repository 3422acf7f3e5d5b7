"""`flask mail worker` processes on a real database and a real SMTP server: erasure while a
batch is out, two workers whose batches outlast the lease, SIGTERM in the middle of a batch."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from eventreg.extensions import db
from eventreg.models import MessageStatus, OutboxMessage, utcnow
from eventreg.services import outbox, privacy
from tests.support.mail import smtp_config


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


@contextlib.contextmanager
def mail_workers(database_url, smtp, count=1, **settings):
    """``count`` `flask mail worker` processes as in production, stopped (SIGTERM) at the end."""
    env = (
        os.environ
        | {
            "EVENTREG_SECRET_KEY": "test-secret-key",
            "EVENTREG_SQLALCHEMY_DATABASE_URI": database_url,
            "EVENTREG_MAIL_SERVER": "127.0.0.1",
            "EVENTREG_MAIL_PORT": str(smtp.port),
        }
        | {f"EVENTREG_{name}": str(value) for name, value in settings.items()}
    )
    command = [sys.executable, "-m", "flask", "--app", "eventreg", "mail", "worker"]
    workers = [
        subprocess.Popen(
            [*command, "--interval", "0.2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    try:
        yield workers
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
        for worker in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=20)
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            worker.stderr.close()


def recipients(smtp) -> list[str]:
    return [m["To"].addresses[0].addr_spec for m in smtp.inbox.messages]


def count(status: MessageStatus) -> int:
    db.session.rollback()  # see what the workers committed
    return db.session.scalar(select(func.count()).where(OutboxMessage.status == status))


def test_erasing_people_while_their_mail_is_out_neither_stops_the_worker_nor_sends_the_rest(
    smtp, database_url, make_event, sign_up
):
    """One person is erased while the server is taking their confirmation, another while theirs
    waits its turn in the worker's batch: the worker goes on with the others, and nothing of
    the second person's is sent after the erasure (the first one's was already handed over)."""
    event = make_event(capacity=None)
    people = [sign_up(event, email=f"person{n}@example.org") for n in range(4)]
    smtp.inbox.reply_delay = 1.0
    with mail_workers(database_url, smtp) as (worker,):
        wait_until(lambda: smtp.inbox.receiving == 1, 20, "the first message is with the server")
        privacy.erase(people[0])  # its confirmation is being accepted right now
        privacy.erase(people[1])  # its confirmation is claimed, next in the batch
        wait_until(lambda: len(smtp.inbox.envelopes) >= 3, 20, "the others arrive")
        wait_until(lambda: count(MessageStatus.SENT) == 2, 20, "the others are marked sent")
        assert worker.poll() is None, worker.stderr.read()
    assert sorted(recipients(smtp)) == [
        "person0@example.org",
        "person2@example.org",
        "person3@example.org",
    ]
    db.session.rollback()
    left = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.recipient, m.status) for m in left] == [
        ("person2@example.org", MessageStatus.SENT),
        ("person3@example.org", MessageStatus.SENT),
    ]
    assert all(m.claimed_until is None and m.claimed_by is None for m in left)


def test_two_workers_whose_batches_outlast_the_lease_send_each_message_once(
    smtp, database_url, make_event, sign_up
):
    """Twenty messages at 0.3 s each take twice a three-second lease: the second worker claims
    what the first has not sent yet, and the first no longer sends those."""
    event = make_event(capacity=None)
    for n in range(20):
        sign_up(event, email=f"pair{n}@example.org")
    smtp.inbox.reply_delay = 0.3
    with mail_workers(database_url, smtp, count=2, OUTBOX_LEASE_SECONDS=3) as workers:
        wait_until(lambda: count(MessageStatus.SENT) == 20, 60, "every message is sent")
        for worker in workers:
            worker.terminate()
        for worker in workers:
            assert worker.wait(timeout=20) == 0, worker.stderr.read()
    ids = [m["Message-ID"] for m in smtp.inbox.messages]
    assert len(ids) == 20 and len(set(ids)) == 20
    assert sorted(recipients(smtp)) == sorted(f"pair{n}@example.org" for n in range(20))


def test_sigterm_stops_the_worker_after_the_message_in_hand_and_hands_back_the_rest(
    smtp, database_url, make_event, sign_up
):
    """systemd stops the worker with SIGTERM: it finishes the message it is sending, and the
    rest of its batch is due again at once, not after the lease (five minutes)."""
    event = make_event(capacity=None)
    for n in range(12):
        sign_up(event, email=f"stop{n}@example.org")
    smtp.inbox.reply_delay = 0.5
    with mail_workers(database_url, smtp) as (worker,):
        wait_until(lambda: smtp.inbox.receiving >= 2, 20, "the worker is sending")
        worker.send_signal(signal.SIGTERM)
        started = smtp.inbox.receiving
        assert worker.wait(timeout=20) == 0, worker.stderr.read()
    delivered = len(smtp.inbox.envelopes)
    assert delivered <= started + 1  # at most the message in hand after the signal
    assert count(MessageStatus.SENT) == delivered
    waiting = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == MessageStatus.PENDING)
    ).all()
    assert len(waiting) == 12 - delivered
    assert all(m.claimed_until is None and m.attempts == 0 for m in waiting)

    smtp.inbox.reply_delay = 0
    assert outbox.deliver_due().sent == 12 - delivered  # due now, not after the lease
    ids = [m["Message-ID"] for m in smtp.inbox.wait_for(12)]
    assert len(ids) == 12 and len(set(ids)) == 12


REFUSE_SENT = {
    "sqlite": [
        "CREATE TRIGGER refuse_sent BEFORE UPDATE OF status ON outbox_message"
        " WHEN NEW.status = 'sent' BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_sent() RETURNS trigger AS"
        " $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_sent BEFORE UPDATE ON outbox_message FOR EACH ROW"
        " WHEN (NEW.status = 'sent') EXECUTE FUNCTION refuse_sent()",
    ],
}


def test_a_sent_message_whose_recording_fails_keeps_its_lease_and_goes_once(
    app, smtp, make_event, sign_up
):
    """The server took the message, then the database refused the write that records it: the
    message went straight back to the queue and the next round sent it again."""
    sign_up(make_event())
    for statement in REFUSE_SENT[db.engine.dialect.name]:
        db.session.execute(text(statement))
    db.session.commit()
    with pytest.raises(DatabaseError, match="refused"):
        outbox.deliver_due()
    db.session.rollback()
    db.session.execute(
        text(
            "DROP TRIGGER refuse_sent"
            + " ON outbox_message" * (db.engine.dialect.name == "postgresql")
        )
    )
    db.session.commit()
    assert len(smtp.inbox.wait_for(1)) == 1
    message = db.session.scalar(select(OutboxMessage))
    assert message.status is MessageStatus.PENDING and message.claimed_until > utcnow()
    assert outbox.deliver_due().claimed == 0  # its lease holds: not sent again at once
    assert len(smtp.inbox.messages) == 1
