"""Registrants (the person and their consent) and their registrations for events."""

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, or_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import db
from ..folding import fold
from .event import Event, enum_column
from .types import UTCDateTime, utcnow

# Crockford's base32 without look-alikes: references are read out over the phone.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    """A short, random, human-friendly registration reference such as ``ER-7K3Q-XM2D``."""
    chars = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"ER-{chars[:4]}-{chars[4:]}"


def new_secret() -> str:
    """A random URL-safe secret of 192 bits."""
    return secrets.token_urlsafe(24)


def new_person_key() -> str:
    """A random key for one anonymised person (128 bits): derived from nothing about them."""
    return secrets.token_hex(16)


class TargetGroup(enum.StrEnum):
    SOCIAL_ECONOMY = "social_economy"
    LOCAL_REGIONAL_AUTHORITY = "local_regional_authority"
    PUBLIC_BODY = "public_body"
    BUSINESS = "business"
    SERVICE_PROVIDER = "service_provider"
    OTHER = "other"


class SocialEconomyType(enum.StrEnum):
    FOUNDATION = "foundation"
    ASSOCIATION = "association"
    SOCIAL_ENTERPRISE = "social_enterprise"
    COOPERATIVE = "cooperative"
    OTHER = "other"


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class CancelReason(enum.StrEnum):
    """Why a registration was cancelled: exports and statistics tell them apart."""

    WITHDRAWN = "withdrawn"  # the person, or an organiser on their behalf
    MOVED = "moved"  # an organiser moved it to another event
    ERASED = "erased"  # the person asked for their data to be erased
    EVENT_CANCELLED = "event_cancelled"  # the event was called off


class Registrant(db.Model):
    """A person who signed up, with what they told us and the consent they gave."""

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # "first last" folded (folding.py), kept with the names: what the door and list searches read.
    search_name: Mapped[str] = mapped_column(String(400), default="", server_default="")
    email: Mapped[str] = mapped_column(String(254), index=True)
    organisation: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    target_group: Mapped[TargetGroup] = mapped_column(enum_column(TargetGroup))
    social_economy_type: Mapped[SocialEconomyType | None] = mapped_column(
        enum_column(SocialEconomyType)
    )
    language: Mapped[str] = mapped_column(String(8))
    needs: Mapped[str | None] = mapped_column(Text)
    network_opt_in: Mapped[bool] = mapped_column(default=False)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    privacy_notice_version: Mapped[str] = mapped_column(String(32))
    manage_key: Mapped[str] = mapped_column(String(64), unique=True, default=new_secret)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # anonymised: erased or expired
    # Sign-ups anonymised together (one person's) share this random key, which means nothing
    # else: the people figures count them as one person once the address is gone.
    person_key: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    registrations: Mapped[list["Registration"]] = relationship(
        back_populates="registrant", order_by="Registration.id"
    )

    @hybrid_property
    def full_name(self) -> str:
        """The name as shown everywhere; also a SQL expression, for reads that load no objects."""
        return self.first_name + " " + self.last_name

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None

    @validates("first_name", "last_name")
    def _keep_search_name(self, key: str, value: str) -> str:
        first, last = (value, self.last_name) if key == "first_name" else (self.first_name, value)
        self.search_name = fold(" ".join(name for name in (first, last) if name))
        return value

    def anonymise(self, person_key: str) -> None:
        """Remove everything that identifies the person; keep what the statistics count, and
        ``person_key`` (see the column) instead of the address that made them one person."""
        self.person_key = self.person_key or person_key  # anonymised again: still the same one
        self.first_name = self.last_name = self.organisation = ""
        self.email = ""
        self.job_title = self.needs = None
        self.network_opt_in = False
        self.manage_key = new_secret()  # the manage link stops working
        self.purged_at = utcnow()
        for registration in self.registrations:
            registration.ticket_secret = new_secret()  # so do the ticket and the join link

    @property
    def active_registrations(self) -> list["Registration"]:
        return [r for r in self.registrations if r.is_active]


class Registration(db.Model):
    """One registrant's place (or place in the queue) at one event.

    ``checked_in_at`` (and ``checked_in_by``) is the first check-in at the door, on any day:
    whether the person came at all (attendance, certificates). A one-day event has only that.
    An event with an agenda of several days also records each day's check-in as a
    ``DayCheckIn`` (``day_check_ins``), one per day at most; ``checked_in_at`` is then the
    earliest of them, and undoing the last of them clears it.
    """

    __table_args__ = (
        UniqueConstraint("registrant_id", "event_id"),
        # A sign-up counts the event's seats and queue from this index alone.
        Index("ix_registration_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True, default=new_reference)
    registrant_id: Mapped[int] = mapped_column(ForeignKey("registrant.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    status: Mapped[RegistrationStatus] = mapped_column(enum_column(RegistrationStatus), index=True)
    ticket_secret: Mapped[str] = mapped_column(String(64), unique=True, default=new_secret)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[CancelReason | None] = mapped_column(enum_column(CancelReason))
    # Every calendar message for this registration (same UID) carries a higher SEQUENCE.
    calendar_sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    joined_online_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    registrant: Mapped[Registrant] = relationship(back_populates="registrations")
    event: Mapped[Event] = relationship()
    checked_in_by: Mapped["User | None"] = relationship()  # noqa: F821
    # Loaded only where asked for (selectinload): a one-day event's door never reads them.
    day_check_ins: Mapped[list["DayCheckIn"]] = relationship(
        back_populates="registration",
        order_by="DayCheckIn.day",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @hybrid_property
    def has_attended(self) -> bool:
        """Checked in at the door, or joined the online event (link or participant report)."""
        return self.checked_in_at is not None or self.joined_online_at is not None

    @has_attended.inplace.expression
    @classmethod
    def _has_attended_expression(cls):
        return or_(cls.checked_in_at.is_not(None), cls.joined_online_at.is_not(None))

    @property
    def is_active(self) -> bool:
        return self.status is not RegistrationStatus.CANCELLED

    @property
    def is_confirmed(self) -> bool:
        return self.status is RegistrationStatus.CONFIRMED

    @property
    def is_waitlisted(self) -> bool:
        return self.status is RegistrationStatus.WAITLISTED

    @property
    def is_history(self) -> bool:
        """Its event has ended: the registration stays as it was (no cancelling, moving or
        promoting), the attendance record the figures count."""
        return self.event.has_ended(utcnow())

    @property
    def can_cancel(self) -> bool:
        return self.is_active and not self.is_history

    def confirm(self) -> None:
        self.status = RegistrationStatus.CONFIRMED
        self.confirmed_at = utcnow()

    def cancel(self, reason: CancelReason) -> None:
        self.status = RegistrationStatus.CANCELLED
        self.cancelled_at = utcnow()
        self.cancel_reason = reason

    def check_in_on(self, day: date) -> "DayCheckIn | None":
        """The check-in of one day of a multi-day event, if the person came that day."""
        return next((check_in for check_in in self.day_check_ins if check_in.day == day), None)

    @property
    def days_attended(self) -> set[date]:
        """The local dates of a multi-day event on which the person was checked in."""
        return {check_in.day for check_in in self.day_check_ins}

    @property
    def check_ins_on_other_days(self) -> list["DayCheckIn"]:
        """Check-ins on dates that are not days of the event (staff checked them in anyway)."""
        days = set(self.event.local_dates)
        return [check_in for check_in in self.day_check_ins if check_in.day not in days]

    def next_calendar_sequence(self) -> int:
        """Advance and return the SEQUENCE for a new calendar message about this registration."""
        # Not flushed yet, a new registration has no value: its column default is 0.
        self.calendar_sequence = (self.calendar_sequence or 0) + 1
        return self.calendar_sequence

    def __repr__(self) -> str:
        return f"<Registration {self.reference} {self.status}>"


class DayCheckIn(db.Model):
    """One day's check-in at a multi-day event: who came on which (local) day, when, by whom."""

    __table_args__ = (UniqueConstraint("registration_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)  # in the event's zone
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # "scan" or "manual"; None for check-ins recorded before days were told apart.
    how: Mapped[str | None] = mapped_column(String(16))

    registration: Mapped[Registration] = relationship(back_populates="day_check_ins")
    checked_in_by: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def local_checked_in_at(self) -> datetime:
        return self.checked_in_at.astimezone(self.registration.event.zone)
