"""The outbox: every e-mail the service owes someone, written in the transaction that caused it."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .event import enum_column
from .network import Member
from .registration import Registration
from .types import UTCDateTime, utcnow


class MessageKind(enum.StrEnum):
    CONFIRMATION = "confirmation"  # a seat: invitation (.ics REQUEST) and QR ticket
    WAITLISTED = "waitlisted"  # on the waiting list: no ticket
    CANCELLED = "cancelled"  # the registration was cancelled: .ics CANCEL
    EVENT_CHANGED = "event_changed"  # time, place or online URL moved: updated .ics REQUEST
    EVENT_CANCELLED = "event_cancelled"  # the whole event was called off: .ics CANCEL
    REMINDER = "reminder"  # about a day before the event
    ORGANISER_MESSAGE = "organiser_message"  # written by an organiser
    PASSWORD_RESET = "password_reset"  # to a staff member: a one-time link to a new password
    MANAGE_LINK = "manage_link"  # the manage link again, asked for at /manage/resend
    MATERIALS_AVAILABLE = "materials_available"  # after the event: slides, recordings ...
    FEEDBACK_REQUEST = "feedback_request"  # after the event: a personal questionnaire link
    CERTIFICATE = "certificate"  # after the event: the attendance certificate as PDF
    NETWORK_CONFIRM = "network_confirm"  # confirm joining the network (double opt-in)
    NETWORK_SIGN_IN = "network_sign_in"  # a one-time sign-in link for a member
    NETWORK_CONTACT = "network_contact"  # a member wrote to another; Reply-To is the sender
    NETWORK_ANNOUNCEMENT = "network_announcement"  # an organiser wrote to all members
    NETWORK_PRACTICE_PUBLISHED = "network_practice_published"  # a member's proposal is published
    NETWORK_PRACTICE_REJECTED = "network_practice_rejected"  # ... or not, with the organiser's note
    NETWORK_PRACTICE_UNPUBLISHED = "network_practice_unpublished"  # taken out of the library
    NETWORK_PRACTICE_REPUBLISHED = "network_practice_republished"  # ... and published again
    ABUSE_REPORT = "abuse_report"  # to an organiser: a member reported another member

    @property
    def is_network(self) -> bool:
        return self.value.startswith("network_")

    @property
    def spent_params(self) -> frozenset[str]:
        """What a message needs only until it is sent: the sign-in nonce (the member's row
        keeps only its hash) is not kept in the outbox once the link is in the mailbox."""
        return frozenset({"nonce"}) if self is MessageKind.NETWORK_SIGN_IN else frozenset()

    @property
    def is_private(self) -> bool:
        """A link that signs a member in, or a member's letter: not for organisers to read."""
        return self in (
            MessageKind.NETWORK_CONFIRM,
            MessageKind.NETWORK_SIGN_IN,
            MessageKind.NETWORK_CONTACT,
        )


class MessageStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; an organiser can retry
    SKIPPED = "skipped"  # out of date when its turn came: not sent, ``skip_reason`` says why


class SkipReason(enum.StrEnum):
    """Why a message was out of date when its turn came (or an organiser retried it)."""

    EVENT_CANCELLED = "event_cancelled"
    EVENT_STARTED = "event_started"  # a reminder or waiting-list notice comes too late
    EVENT_ENDED = "event_ended"  # an invitation, ticket or change of plan comes too late
    REGISTRATION_CANCELLED = "registration_cancelled"
    NO_LONGER_CONFIRMED = "no_longer_confirmed"
    NO_LONGER_WAITLISTED = "no_longer_waitlisted"
    MAIL_STOPPED = "mail_stopped"  # the member stopped the network's e-mails after it was queued
    SENDER_GONE = "sender_gone"  # a member's message whose sender was hidden or left since
    PRACTICE_MOVED_ON = "practice_moved_on"  # its practice went in or out of the library again
    REPORT_CLOSED = "report_closed"  # an organiser decided on the report, or it went
    NO_LONGER_ORGANISER = "no_longer_organiser"  # a report's reader deactivated or demoted
    CERTIFICATE_WITHDRAWN = "certificate_withdrawn"  # revoked, or the check-in undone, since
    REPLACED = "replaced"  # a newer e-mail in its place: a later change, a newer link
    CHANGE_UNDONE = "change_undone"  # an "event changed" whose event is back as it was told
    FEEDBACK_WITHDRAWN = "feedback_withdrawn"  # a questionnaire link whose check-in was undone
    CONTACT_STOPPED = "contact_stopped"  # the recipient stopped the sender's messages since


class OutboxMessage(db.Model):
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind))
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    # Network e-mails go to a member; they leave with the member's profile.
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True
    )
    # A password reset link goes to a staff account.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The sender holding the lease: it sends, and records a failure, only while it still does.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    # When that sender took it to hand it to the mail server: on its way, it cannot be taken
    # back (``outbox.replace_queued``) while the lease holds.
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skip_reason: Mapped[SkipReason | None] = mapped_column(enum_column(SkipReason))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration | None] = relationship()
    member: Mapped[Member | None] = relationship(passive_deletes=True)
    user: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def is_sent(self) -> bool:
        return self.status is MessageStatus.SENT

    @property
    def is_failed(self) -> bool:
        return self.status is MessageStatus.FAILED

    @property
    def is_skipped(self) -> bool:
        return self.status is MessageStatus.SKIPPED

    @property
    def is_erased(self) -> bool:
        """The person's data was erased: only the message's kind and fate remain."""
        # A network member's messages leave with the member: none outlives the profile.
        return self.registration is not None and self.registration.registrant.is_purged

    def written_by(self, sender: Member) -> bool:
        """Whether this member-to-member message was written by ``sender``. SQLite gives a
        former member's id to the next who joins: a message older than the profile was a
        former member's."""
        return self.params.get("sender_id") == sender.id and self.created_at >= sender.created_at

    @property
    def can_retry(self) -> bool:
        return self.status is MessageStatus.FAILED
