"""Members reporting another member (their profile, or a message they sent) to the organisers
(who decide in ``network_admin``). The member reported is never told, so never by whom."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from ..database import locking, write_transaction
from ..extensions import db
from ..models import (
    AbuseReport,
    Member,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    ReportReason,
    ReportStatus,
    Role,
    User,
)
from . import member_contact
from .outbox import enqueue_to_staff
from .topics import SHIPPED

# Messages a reporter can choose from: the latest ones they received from that member.
MESSAGES_SHOWN = 20


class NothingToReport(Exception):
    """No such member or message for this reporter to report (any more)."""


@dataclass(frozen=True)
class ReceivedMessage:
    """A message a member received from another, as the report form offers it."""

    ref: int  # the recipient's copy in the outbox
    text: str
    sent_at: datetime


def reportable(reporter: Member, other_id: int) -> Member | None:
    """The member the reporter may report: one they can see, or one who wrote to them; never
    themselves (None, so that a hidden or unconfirmed member's name is told to nobody).

    A reporter the organisers hid sees no profiles, but may still report what they received."""
    other = db.session.get(Member, other_id)
    if other is None or other.id == reporter.id or other.is_pending:
        return None
    if may_report_profile(reporter, other) or received_messages(reporter, other):
        return other
    return None


def may_report_profile(reporter: Member, other: Member) -> bool:
    """Whether the reporter can see the other's profile, and so report it."""
    return other.is_active and not reporter.is_hidden


def received_messages(reporter: Member, sender: Member) -> list[ReceivedMessage]:
    """The latest messages the reporter was sent by the other member, newest first, however
    many others wrote to them since."""
    copies = db.session.scalars(
        _received(reporter)
        .where(OutboxMessage.params["sender_id"].as_integer() == sender.id)
        .where(OutboxMessage.created_at >= sender.created_at)  # see OutboxMessage.written_by
        .order_by(OutboxMessage.id.desc())
        .limit(MESSAGES_SHOWN)
    )
    return [_offered(copy) for copy in copies if copy.written_by(sender)]


def received_message(reporter: Member, sender: Member, ref: int) -> ReceivedMessage | None:
    """One message the reporter was sent by the other member (the one an e-mail's link names),
    however many came since; None when it is not theirs from this member."""
    copy = db.session.scalar(_received(reporter).where(OutboxMessage.id == ref))
    return _offered(copy) if copy is not None and copy.written_by(sender) else None


def report(
    reporter: Member,
    other: Member,
    reason: ReportReason,
    note: str | None,
    *,
    message_ref: int | None = None,
    block: bool = False,
) -> AbuseReport | None:
    """Record the report with a copy of what was reported, tell the organisers by e-mail and,
    if asked, stop the member's messages to the reporter. None when the reporter's same report
    is open already: nothing new is recorded (the block still is)."""
    reporter_id, other_id = reporter.id, other.id
    with write_transaction():
        # The reporter's row serialises their reports (two clicks at once make one report);
        # the other's keeps them from leaving meanwhile. Both in id order, as everyone locks.
        locked = {
            member.id: member
            for member in db.session.scalars(
                locking(
                    select(Member).where(Member.id.in_([reporter_id, other_id])).order_by(Member.id)
                )
            )
        }
        reporter, other = locked.get(reporter_id), locked.get(other_id)
        if reporter is None or other is None or reportable(reporter, other.id) is None:
            raise NothingToReport()
        message = None
        if message_ref is not None:
            message = received_message(reporter, other, message_ref)
            if message is None:
                raise NothingToReport()
        elif not may_report_profile(reporter, other):
            raise NothingToReport()
        if block:
            member_contact.block(reporter, other.id, by_their_message=message is not None)
        if _open_report(reporter, other, message_ref) is not None:
            return None
        found = AbuseReport(
            reporter_id=reporter.id,
            reported_id=other.id,
            message_ref=message_ref,
            reason=reason,
            note=note,
            snapshot=_snapshot(other, message),
        )
        db.session.add(found)
        db.session.flush()
        for organiser in _organisers():
            enqueue_to_staff(
                MessageKind.ABUSE_REPORT, organiser, report_id=found.id, reason=reason.value
            )
    return found


def open_reports() -> list[AbuseReport]:
    """Reports waiting for an organiser, oldest first."""
    return list(
        db.session.scalars(
            select(AbuseReport)
            .where(AbuseReport.status == ReportStatus.OPEN)
            .options(selectinload(AbuseReport.reported), selectinload(AbuseReport.former))
            .order_by(AbuseReport.id)
        )
    )


def decided_reports(limit: int = 50) -> list[AbuseReport]:
    """The latest reports organisers decided on, newest first."""
    return list(
        db.session.scalars(
            select(AbuseReport)
            .where(AbuseReport.status != ReportStatus.OPEN)
            .order_by(AbuseReport.decided_at.desc(), AbuseReport.id.desc())
            .limit(limit)
        )
    )


def reports_made(member: Member) -> list[dict]:
    """The reports a member made, for their personal data export."""
    made = db.session.scalars(
        select(AbuseReport).where(AbuseReport.reporter_id == member.id).order_by(AbuseReport.id)
    )
    return [
        {
            "about": report.snapshot.get("name"),
            "what": "message" if report.is_about_a_message else "profile",
            "reason": report.reason.value,
            "note": report.note,
            "status": report.status.value,
            "reported_at": report.created_at.isoformat(),
        }
        for report in made
    ]


def forget_reporter(member: Member) -> None:
    """Take a member who leaves off the reports they made, with their note (their words may
    name them); what they reported stays for the organisers. Inside the caller's transaction."""
    for made in db.session.scalars(
        locking(select(AbuseReport).where(AbuseReport.reporter_id == member.id))
    ):
        made.reporter_id = None
        made.note = None


def _open_report(reporter: Member, other: Member, message_ref: int | None) -> AbuseReport | None:
    query = select(AbuseReport).where(
        AbuseReport.reporter_id == reporter.id,
        AbuseReport.reported_id == other.id,
        AbuseReport.status == ReportStatus.OPEN,
    )
    if message_ref is None:
        query = query.where(AbuseReport.message_ref.is_(None))
    else:
        query = query.where(AbuseReport.message_ref == message_ref)
    return db.session.scalar(query.limit(1))


def _received(reporter: Member) -> Select:
    return select(OutboxMessage).where(
        OutboxMessage.member_id == reporter.id,
        OutboxMessage.kind == MessageKind.NETWORK_CONTACT,
        OutboxMessage.status == MessageStatus.SENT,
    )


def _offered(copy: OutboxMessage) -> ReceivedMessage:
    return ReceivedMessage(copy.id, copy.params.get("text", ""), copy.sent_at)


def _snapshot(other: Member, message: ReceivedMessage | None) -> dict:
    """The profile (and message) as the reporter saw it: the member may change or delete it."""
    taken = {
        "name": other.name,
        "organisation": other.organisation,
        "country": other.country,
        "role": other.role,
        "bio": other.bio,
        # Shipped topics by key, translated when shown: readers use other languages.
        "topics": [topic.key if topic.key in SHIPPED else topic.label for topic in other.topics],
    }
    if message is not None:
        taken |= {"message": message.text, "sent_at": message.sent_at.isoformat()}
    return taken


def _organisers() -> list[User]:
    """The staff who manage the network: organisers and admins with an active account."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_([Role.ADMIN, Role.ORGANISER]), User.is_active)
            .order_by(User.id)
        )
    )
