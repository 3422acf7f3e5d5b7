"""Queueing e-mail in the outbox and delivering it: retries, backoff, at least once.

Messages are queued inside the caller's transaction, so an e-mail exists exactly when the
change that caused it was committed. Senders claim due messages with a lease (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), so several senders never take the same
message; right before each message goes, its sender checks that the lease is still its own and
renews it, so a batch slower than the lease never sends what another sender took over. Each
message is marked sent in its own commit right after the server accepted it. Delivery is at
least once, with a stable Message-ID: a sender killed between the server's acceptance and that
commit sends the message again when its lease runs out (the nature of SMTP), and mail clients
that see the same Message-ID twice can drop the copy.
"""

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from typing import Any
from uuid import uuid4

from flask import current_app
from sqlalchemy import ColumnElement, Select, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload, selectinload

from ..database import lock, locking, write_transaction
from ..extensions import db
from ..models import (
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Registration,
    SkipReason,
    User,
    utcnow,
)
from .mail_transport import FileTransport, SmtpTransport, TransportError, open_transport
from .notifications import build_message
from .outdated_mail import outdated_because

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


def readdress(registration_ids: list[int], old: str, new: str) -> None:
    """Send what still waits for these registrations (queued, or given up and so retried by
    hand) to the person's corrected address, inside the caller's transaction."""
    if not registration_ids:
        return
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.registration_id.in_(registration_ids),
            OutboxMessage.status.in_([MessageStatus.PENDING, MessageStatus.FAILED]),
            OutboxMessage.recipient == old,
        )
        .values(recipient=new)
        .execution_options(synchronize_session=False)
    )


def replace_queued(
    kind: MessageKind, *where: ColumnElement[bool], reason: SkipReason = SkipReason.REPLACED
) -> list[OutboxMessage]:
    """Take back the messages of this kind matching ``where`` that have not left (queued, in a
    sender's batch, or failed), marked not sent (``reason``: by default ``REPLACED``, the
    caller queues one newer message in their place), inside the caller's transaction. Oldest
    first.

    A message in a sender's batch is rendered only when its turn comes: taken back, the sender
    finds it no longer queued and passes on. One a sender has taken to hand over is on its way,
    rendered already: it is not taken back, the caller counts it as told. (Taken back after its
    sender's lease ran out, and sent all the same, it is recorded as sent: ``_record_sent``.)"""
    messages = db.session.scalars(
        locking(
            select(OutboxMessage)
            .where(OutboxMessage.kind == kind, *where)
            .where(OutboxMessage.status.in_([MessageStatus.PENDING, MessageStatus.FAILED]))
            .where(or_(OutboxMessage.taken_at.is_(None), OutboxMessage.claimed_until <= utcnow()))
            .order_by(OutboxMessage.id)
        )
    ).all()
    for message in messages:
        message.status = MessageStatus.SKIPPED
        message.skip_reason = reason
        message.claimed_until = message.claimed_by = message.taken_at = None
        message.last_error = None
    return messages


# inline(): nothing reads the new id, so PostgreSQL is not asked to return it.
_INSERT_MESSAGE = insert(OutboxMessage.__table__).inline()


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    claimed: int = 0
    skipped: int = 0  # out of date when their turn came: recorded as not sent


def deliver_due(
    batch_size: int | None = None, *, stop: Callable[[], bool] = lambda: False
) -> DeliveryReport:
    """Claim the messages that are due and send them over one connection.

    ``stop()``, asked before each message, ends the batch early: the messages not yet sent go
    back to the queue at once, for another sender or the next start.
    """
    batch_size = batch_size or current_app.config["OUTBOX_BATCH_SIZE"]
    claim = uuid4().hex
    waiting = deque(_claim(batch_size, claim))
    report = DeliveryReport(claimed=len(waiting))
    try:
        if waiting:
            with open_transport() as transport:
                while waiting and not stop():
                    # Out of the batch before it goes: if recording it fails once it is sent,
                    # it keeps its lease instead of going back to the queue to be sent again.
                    message_id = waiting.popleft()
                    try:
                        _send_one(transport, message_id, claim, report)
                    except TransportError:
                        waiting.appendleft(message_id)  # not sent: waits with the others
                        raise
    except TransportError as exc:  # the server is unreachable: every unsent claimed message waits
        while waiting:
            report.failed += _record_failure(waiting.popleft(), claim, exc)
    finally:
        _release(waiting, claim)
    return report


def _send_one(
    transport: SmtpTransport | FileTransport, message_id: int, claim: str, report: DeliveryReport
) -> None:
    """Send one claimed message if it is still this sender's to send, and record its fate."""
    message = db.session.scalars(_read_afresh(message_id)).one_or_none()
    if message is None:  # the person was erased
        return
    try:
        # Built before the lease is checked, so that the lease covers only the handing over.
        email = build_message(message)
    except Exception as exc:  # this message alone cannot be built or encoded
        # An address or a text no mail can carry: record it and go on with the others.
        # Raised, it ended the sender, which met it again on every start.
        db.session.rollback()
        log.exception("Message %s could not be built", message_id)
        report.failed += _record_failure(message_id, claim, exc)
        return
    message = _take(message_id, claim)
    if message is None:  # erased, or taken over by another sender after this one's lease
        return
    if message.is_skipped:
        report.skipped += 1
        return
    try:
        transport.send(email)
    except TransportError as exc:
        if exc.connection_lost:
            raise
        report.failed += _record_failure(message_id, claim, exc)
    except Exception as exc:  # the message cannot be encoded
        db.session.rollback()
        log.exception("Message %s could not be encoded", message_id)
        report.failed += _record_failure(message_id, claim, exc)
    else:
        _record_sent(message_id)
        report.sent += 1


def _read_afresh(message_id: int) -> Select[tuple[OutboxMessage]]:
    """The message with its registration, event and person, or its member or staff account,
    read again: the sender's session may hold them from an earlier round, before a
    cancellation or a rewritten profile (whose confirmation link is made from its new key)."""
    return (
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .options(
            joinedload(OutboxMessage.registration).joinedload(Registration.event),
            joinedload(OutboxMessage.registration).joinedload(Registration.registrant),
            joinedload(OutboxMessage.member),
            joinedload(OutboxMessage.user),
        )
        .execution_options(populate_existing=True)
    )


# How long an organiser's same subject and text, written again, count as sent already.
REPEAT_WINDOW = timedelta(minutes=10)


def queued_alike(kind: MessageKind, same: dict[str, Any], *where: ColumnElement[bool]) -> bool:
    """Whether a message of this kind whose parameters include ``same`` (and matching
    ``where``) was queued within REPEAT_WINDOW: the same text sent again by a double click,
    or the form sent again from the browser's history."""
    found = db.session.scalars(
        select(OutboxMessage.params)
        .where(OutboxMessage.kind == kind, *where)
        .where(OutboxMessage.created_at > utcnow() - REPEAT_WINDOW)
    )
    return any(all(params.get(key) == value for key, value in same.items()) for params in found)


def queued_lately(kind: MessageKind, *, at_least: int = 1, **owner: Any) -> bool:
    """Whether ``at_least`` such messages were queued for this owner (``recipient=...``,
    ``member_id=...``) within RESEND_LINK_PAUSE_MINUTES: a link asked for again is not sent
    again until then, so that no form can flood a mailbox."""
    pause = timedelta(minutes=current_app.config["RESEND_LINK_PAUSE_MINUTES"])
    owned = [getattr(OutboxMessage, name) == value for name, value in owner.items()]
    found = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.kind == kind, *owned)
        .where(OutboxMessage.created_at > utcnow() - pause)
        .limit(at_least)
    ).all()
    return len(found) >= at_least


def deliver_all(max_rounds: int = 1000) -> DeliveryReport:
    """Deliver until nothing is due (for ``flask mail send`` and tests)."""
    total = DeliveryReport()
    for _ in range(max_rounds):
        report = deliver_due()
        total.sent += report.sent
        total.failed += report.failed
        total.claimed += report.claimed
        total.skipped += report.skipped
        if report.claimed == 0 or report.sent + report.skipped == 0:
            break
    return total


def retry(message: OutboxMessage) -> SkipReason | None:
    """Put a failed message back in the queue, due now; unless it is out of date, which it
    returns, leaving the message as it was."""
    with write_transaction():
        message = lock(message)
        if not message.can_retry:  # another organiser retried it, or it was sent meanwhile
            return None
        if reason := outdated_because(message, utcnow()):
            return reason
        message.status = MessageStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = utcnow()
        message.claimed_until = None
        message.claimed_by = None
    return None


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


def _claim(batch_size: int, claim: str) -> list[int]:
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
            message.claimed_by = claim
            message.taken_at = None  # a sender whose lease ran out had taken it
        ids = [message.id for message in messages]
    return ids


def _take(message_id: int, claim: str) -> OutboxMessage | None:
    """The claimed message, read again, if this sender still holds its lease: renewed for the
    send, or recorded as not sent when it has become out of date. None when it is gone (the
    person was erased), no longer pending, or another sender's since this one's lease ran out.
    """
    now = utcnow()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    with write_transaction():
        message = db.session.scalars(
            locking(
                _read_afresh(message_id)
                .where(OutboxMessage.status == MessageStatus.PENDING)
                .where(OutboxMessage.claimed_by == claim, OutboxMessage.claimed_until > now),
                of=OutboxMessage,
            )
        ).one_or_none()
        if message is None:
            return None
        if reason := outdated_because(message, now):
            message.status = MessageStatus.SKIPPED
            message.skip_reason = reason
            message.claimed_until = message.claimed_by = None
            message.last_error = None  # an earlier attempt's error is not why it stays unsent
            log.info("Message %s not sent: %s", message_id, reason)
        else:
            message.claimed_until = now + lease
            message.taken_at = now
    return message


_TAKEN_BACK = (SkipReason.REPLACED, SkipReason.CHANGE_UNDONE, SkipReason.FEEDBACK_WITHDRAWN)


def _record_sent(message_id: int) -> None:
    """Mark the message sent, even if another sender took it over meanwhile: it has left, and
    that sender, finding it sent, does not send it again."""
    with write_transaction():
        message = db.session.scalars(
            locking(
                select(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .where(
                    or_(
                        OutboxMessage.status == MessageStatus.PENDING,
                        # taken back (``replace_queued``) while it was being handed over
                        OutboxMessage.skip_reason.in_(_TAKEN_BACK),
                    )
                )
            )
        ).one_or_none()
        if message is None:  # the person was erased while it was being sent
            return
        message.status = MessageStatus.SENT
        message.skip_reason = None
        message.sent_at = utcnow()
        message.claimed_until = message.claimed_by = message.taken_at = None
        message.attempts += 1
        message.last_error = None
        if spent := message.kind.spent_params & message.params.keys():
            message.params = {key: v for key, v in message.params.items() if key not in spent}


def _record_failure(message_id: int, claim: str, error: Exception) -> bool:
    """Count a failed attempt and put the message off, if it is still this sender's claim."""
    config = current_app.config
    with write_transaction():
        message = db.session.scalars(
            locking(
                select(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .where(OutboxMessage.status == MessageStatus.PENDING)
                .where(OutboxMessage.claimed_by == claim)
            )
        ).one_or_none()
        if message is None:  # erased, or another sender's now: its attempts are its own
            return False
        message.attempts += 1
        message.last_error = str(error)[:2000]
        message.claimed_until = message.claimed_by = message.taken_at = None
        if message.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
            message.status = MessageStatus.FAILED
        else:
            delay = min(
                config["OUTBOX_BACKOFF_SECONDS"] * 2 ** (message.attempts - 1),
                config["OUTBOX_MAX_BACKOFF_SECONDS"],
            )
            message.next_attempt_at = utcnow() + timedelta(seconds=delay)
    log.warning("Message %s to %s not sent: %s", message.id, message.recipient, error)
    return True


def _release(message_ids: deque[int], claim: str) -> None:
    """Hand the claimed messages not sent back to the queue, due at once."""
    if not message_ids:
        return
    try:
        db.session.rollback()  # an error may have ended the transaction this follows
        with write_transaction():
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(list(message_ids)))
                .where(OutboxMessage.claimed_by == claim)
                .where(OutboxMessage.status == MessageStatus.PENDING)
                .values(claimed_until=None, claimed_by=None)
            )
    except SQLAlchemyError:  # the database is gone: the lease hands them back when it runs out
        log.warning("Could not hand back %d claimed message(s)", len(message_ids), exc_info=True)
