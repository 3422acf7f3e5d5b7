"""Queueing e-mail in the outbox and delivering it: retries, backoff, at least once.

Messages are queued inside the caller's transaction, so an e-mail exists exactly when the
change that caused it was committed. Senders claim due messages with a lease (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), so several senders never take the same
message; each message is marked sent in its own commit right after the server accepted it.
Delivery is at least once, with a stable Message-ID: a sender killed between the server's
acceptance and that commit sends the message again when its lease runs out (the nature of
SMTP), and mail clients that see the same Message-ID twice can drop the copy.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import selectinload

from ..database import lock, locking, write_transaction
from ..extensions import db
from ..models import MessageKind, MessageStatus, OutboxMessage, Registration, User, utcnow
from .mail_transport import TransportError, open_transport
from .notifications import build_message

log = logging.getLogger(__name__)


def enqueue(kind: MessageKind, registration: Registration, **params: Any) -> None:
    """Add a message to the outbox in the current transaction (the caller commits)."""
    add_message(kind, registration.registrant.email, params, registration=registration)


def enqueue_to_staff(kind: MessageKind, user: User, **params: Any) -> None:
    """Add a message to a staff account (no registration) in the current transaction."""
    add_message(kind, user.email, params, user=user)


def add_message(kind: MessageKind, recipient: str, params: dict, **owners: Any) -> None:
    """The one way into the outbox: a message with its own Message-ID, for whom it concerns.

    ``owners`` is the registration, member or user it concerns. The message is written at once
    with one INSERT, as the audit log's entries are: nothing reads it back in the same use
    case. An owner not yet in the database is flushed first, so that the message can name it.
    """
    if any(owner.id is None for owner in owners.values()):
        db.session.flush()
    db.session.execute(
        _INSERT_MESSAGE,
        {
            "kind": kind,
            "recipient": recipient,
            "params": params,
            "message_id": make_msgid(domain=current_app.config["MAIL_MESSAGE_ID_DOMAIN"]),
            **{f"{name}_id": owner.id for name, owner in owners.items()},
        },
    )


# inline(): nothing reads the new id, so PostgreSQL is not asked to return it.
_INSERT_MESSAGE = insert(OutboxMessage.__table__).inline()


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    claimed: int = 0


def deliver_due(batch_size: int | None = None) -> DeliveryReport:
    """Claim the messages that are due and send them over one connection."""
    batch_size = batch_size or current_app.config["OUTBOX_BATCH_SIZE"]
    ids = _claim(batch_size)
    report = DeliveryReport(claimed=len(ids))
    if not ids:
        return report
    try:
        with open_transport() as transport:
            for message_id in ids:
                try:
                    transport.send(build_message(db.session.get(OutboxMessage, message_id)))
                except TransportError as exc:
                    if exc.connection_lost:
                        raise
                    _record_failure(message_id, exc)
                    report.failed += 1
                except Exception as exc:  # this message alone cannot be built or encoded
                    # An address or a text no mail can carry: record it and go on with the
                    # others. Raised, it ended the sender, which met it again on every start.
                    db.session.rollback()
                    log.exception("Message %s could not be built", message_id)
                    _record_failure(message_id, exc)
                    report.failed += 1
                else:
                    _record_sent(message_id)
                    report.sent += 1
    except TransportError as exc:  # the server is unreachable: every unsent claimed message waits
        for message_id in ids[report.sent + report.failed :]:
            _record_failure(message_id, exc)
            report.failed += 1
    return report


def queued_lately(kind: MessageKind, **owner: Any) -> bool:
    """Whether such a message was queued for this owner (``recipient=...``, ``member_id=...``)
    within RESEND_LINK_PAUSE_MINUTES: a link asked for again is not sent again until then, so
    that no form can flood a mailbox."""
    pause = timedelta(minutes=current_app.config["RESEND_LINK_PAUSE_MINUTES"])
    owned = [getattr(OutboxMessage, name) == value for name, value in owner.items()]
    found = db.session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.kind == kind, *owned)
        .where(OutboxMessage.created_at > utcnow() - pause)
        .limit(1)
    )
    return found is not None


def deliver_all(max_rounds: int = 1000) -> DeliveryReport:
    """Deliver until nothing is due (for ``flask mail send`` and tests)."""
    total = DeliveryReport()
    for _ in range(max_rounds):
        report = deliver_due()
        total.sent += report.sent
        total.failed += report.failed
        total.claimed += report.claimed
        if report.claimed == 0 or report.sent == 0:
            break
    return total


def retry(message: OutboxMessage) -> None:
    """Put a failed message back in the queue, due now."""
    with write_transaction():
        message = lock(message)
        if not message.can_retry:  # another organiser retried it, or it was sent meanwhile
            return
        message.status = MessageStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = utcnow()
        message.claimed_until = None


def recent(
    status: MessageStatus | None = None, limit: int = 200, *, recipient: str | None = None
) -> list[OutboxMessage]:
    """The newest messages, optionally of one status or to addresses containing ``recipient``."""
    query = (
        select(OutboxMessage)
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
        .options(
            selectinload(OutboxMessage.registration).selectinload(Registration.registrant),
            selectinload(OutboxMessage.registration).selectinload(Registration.event),
        )
    )
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if recipient:
        query = query.where(OutboxMessage.recipient.icontains(recipient.strip(), autoescape=True))
    return list(db.session.scalars(query))


def counts() -> dict[MessageStatus, int]:
    """How many messages are pending, sent and failed."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    found = dict(rows.all())
    return {status: found.get(status, 0) for status in MessageStatus}


def _claim(batch_size: int) -> list[int]:
    now = utcnow()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    with write_transaction():
        messages = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.PENDING)
            .where(OutboxMessage.next_attempt_at <= now)
            .where(or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
            .order_by(OutboxMessage.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        for message in messages:
            message.claimed_until = now + lease
        ids = [message.id for message in messages]
    return ids


def _record_sent(message_id: int) -> None:
    with write_transaction():
        message = db.session.scalars(
            locking(select(OutboxMessage).where(OutboxMessage.id == message_id))
        ).one()
        message.status = MessageStatus.SENT
        message.sent_at = utcnow()
        message.claimed_until = None
        message.attempts += 1
        message.last_error = None
        if spent := message.kind.spent_params & message.params.keys():
            message.params = {key: v for key, v in message.params.items() if key not in spent}


def _record_failure(message_id: int, error: Exception) -> None:
    config = current_app.config
    with write_transaction():
        message = db.session.scalars(
            locking(select(OutboxMessage).where(OutboxMessage.id == message_id))
        ).one()
        message.attempts += 1
        message.last_error = str(error)[:2000]
        message.claimed_until = None
        if message.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
            message.status = MessageStatus.FAILED
        else:
            delay = min(
                config["OUTBOX_BACKOFF_SECONDS"] * 2 ** (message.attempts - 1),
                config["OUTBOX_MAX_BACKOFF_SECONDS"],
            )
            message.next_attempt_at = utcnow() + timedelta(seconds=delay)
    log.warning("Message %s to %s not sent: %s", message.id, message.recipient, error)
