"""The network of practice: members, their profiles, topics of expertise, contact requests and
blocks."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import db
from ..folding import fold
from .event import enum_column
from .registration import TargetGroup, new_secret
from .types import UTCDateTime, utcnow

# The profile fields a member may show to everyone instead of to members only.
PROFILE_FIELDS = (
    "name",
    "organisation",
    "country",
    "target_group",
    "role",
    "topics",
    "languages",
    "bio",
)


# What the directory's words are looked for in (folded into ``Member.search_text``).
SEARCHED_FIELDS = ("name", "organisation", "role", "bio")


class MemberStatus(enum.StrEnum):
    PENDING = "pending"  # joined, e-mail address not confirmed yet: nobody sees the profile
    ACTIVE = "active"
    HIDDEN = "hidden"  # an organiser took the profile out of the directory and public page


member_topic = Table(
    "member_topic",
    db.metadata,
    Column("member_id", ForeignKey("member.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True),
)


class Topic(db.Model):
    """A topic of expertise; the shipped ones have a ``key`` and translated labels."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    label: Mapped[str] = mapped_column(String(120))  # an organiser's own wording for added ones


class Member(db.Model):
    """A person in the network of practice: a profile they control, field by field."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2))
    target_group: Mapped[TargetGroup] = mapped_column(enum_column(TargetGroup))
    role: Mapped[str | None] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    bio: Mapped[str | None] = mapped_column(Text)
    public_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8))  # the language of the e-mails
    status: Mapped[MemberStatus] = mapped_column(
        enum_column(MemberStatus), default=MemberStatus.PENDING
    )
    accepts_contact: Mapped[bool] = mapped_column(default=True)
    # False once the member stopped the network's e-mails (the link in each one, or the profile):
    # no announcements, no members' messages. Anyone holding the link may do this, so it is all
    # the link does: the member turns the e-mails back on from their profile.
    receives_mail: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Name, organisation, role and text folded (folding.py), kept with them: what the directory
    # searches, so that "jorgensen" finds Jørgensen on both databases.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    key: Mapped[str] = mapped_column(String(64), unique=True, default=new_secret)
    sign_in_nonce: Mapped[str | None] = mapped_column(String(64))
    sign_in_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What signed-in browsers hold with the member's id; cleared on sign-out (every browser).
    session_nonce: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    topics: Mapped[list[Topic]] = relationship(secondary=member_topic, order_by=Topic.id)

    @property
    def is_active(self) -> bool:
        return self.status is MemberStatus.ACTIVE

    @property
    def accepts_messages(self) -> bool:
        """Takes messages from members at all: contact allowed and the e-mails not stopped."""
        return self.accepts_contact and self.receives_mail

    @property
    def is_pending(self) -> bool:
        return self.status is MemberStatus.PENDING

    @property
    def is_hidden(self) -> bool:
        return self.status is MemberStatus.HIDDEN

    @property
    def is_public(self) -> bool:
        """Listed on the public page: the member made at least their name public."""
        return "name" in self.public_fields

    def shows(self, field: str, to_members: bool) -> bool:
        """Whether a reader (a member or anyone) may see this field of the profile."""
        return to_members or field in self.public_fields

    @validates(*SEARCHED_FIELDS)
    def _keep_search_text(self, key: str, value: str | None) -> str | None:
        texts = [value if name == key else getattr(self, name) for name in SEARCHED_FIELDS]
        self.search_text = fold("\n".join(text for text in texts if text))
        return value


class ContactRequest(db.Model):
    """One member wrote to another through the service (counted for the rate limit)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContactBlock(db.Model):
    """A member takes no more messages from one other member, who is not told (to them the
    member "does not accept messages", as one who turned contact off altogether).

    The member blocked leaving does not lift it: it waits under their ``former_key`` and holds
    again if they join again (``services/former_members``)."""

    __table_args__ = (UniqueConstraint("member_id", "blocked_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    blocked_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    # The member blocked, once they left: a keyed digest of their address (never the address).
    former_key: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    blocked: Mapped[Member | None] = relationship(foreign_keys=[blocked_id])


class ReportReason(enum.StrEnum):
    SPAM = "spam"
    HARASSMENT = "harassment"
    FAKE_PROFILE = "fake_profile"
    INAPPROPRIATE = "inappropriate"
    OTHER = "other"


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"  # an organiser found nothing to do
    ACTED = "acted"  # an organiser hid the member reported


class AbuseReport(db.Model):
    """A member told the organisers about another member's profile or a message from them.

    ``snapshot`` keeps what was reported as it was then (members edit and delete). The member
    reported leaving does not end it: it waits under their ``former_key`` for the organisers
    and finds them again if they join again (``services/former_members``). The reporter
    leaving takes their name and note off it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    reported_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True
    )
    # The member reported, once they left: a keyed digest of their address (never the address).
    former_key: Mapped[str | None] = mapped_column(String(64), index=True)
    # The reporter's copy of the message in the outbox; None: the profile was reported.
    message_ref: Mapped[int | None] = mapped_column()
    reason: Mapped[ReportReason] = mapped_column(enum_column(ReportReason))
    note: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus), default=ReportStatus.OPEN
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reporter: Mapped[Member | None] = relationship(foreign_keys=[reporter_id])
    reported: Mapped[Member | None] = relationship(foreign_keys=[reported_id])
    # What waits for the member reported once they left (nothing: they were not hidden).
    former: Mapped["FormerMember | None"] = relationship(
        primaryjoin="foreign(AbuseReport.former_key) == FormerMember.former_key", viewonly=True
    )

    @property
    def is_open(self) -> bool:
        return self.status is ReportStatus.OPEN

    @property
    def is_acted(self) -> bool:
        return self.status is ReportStatus.ACTED

    @property
    def reported_left(self) -> bool:
        """The member reported has left the network (or was removed) since."""
        return self.reported_id is None

    @property
    def reported_hidden(self) -> bool:
        """Organisers hid the member reported (should they have left: hide them on return)."""
        if self.reported is not None:
            return self.reported.is_hidden
        return self.former is not None and self.former.hidden

    @property
    def is_about_a_message(self) -> bool:
        return self.message_ref is not None

    @property
    def message_sent_at(self) -> datetime | None:
        """When the message reported was sent (kept in the snapshot)."""
        sent = self.snapshot.get("sent_at")
        return datetime.fromisoformat(sent) if sent else None


class FormerMember(db.Model):
    """A member who left (or was removed, or erased) with something the network keeps against
    leaving: reports about them, members' blocks of their messages, or organisers having hidden
    them. Joining again with the address brings these back (``services/former_members``).

    Only a keyed digest of the address is kept, for RETENTION_DAYS from ``left_at``."""

    former_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    hidden: Mapped[bool] = mapped_column(default=False)
    left_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
