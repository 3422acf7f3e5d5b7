"""Events of the programme: missions and webinars."""

import enum
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..local_times import last_date
from .types import UTCDateTime, utcnow


class EventKind(enum.StrEnum):
    MISSION = "mission"
    WEBINAR = "webinar"


class EventMode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"  # only organisers see it
    PUBLISHED = "published"
    CANCELLED = "cancelled"  # called off; registrants were told


class RegistrationWindow(enum.StrEnum):
    NOT_YET_OPEN = "not_yet_open"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self is RegistrationWindow.OPEN

    @property
    def is_not_yet_open(self) -> bool:
        return self is RegistrationWindow.NOT_YET_OPEN


class AgendaDay(NamedTuple):
    """One day of an event's agenda as values: aware start and end, an optional title."""

    starts_at: datetime
    ends_at: datetime
    title: str | None = None


def enum_column(enum_class: type[enum.Enum]) -> Enum:
    """Store an enum by its value as a plain string column, portable across databases."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Event(db.Model):
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint(
            "registration_closes_at > registration_opens_at", name="window_closes_after_opening"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    mode: Mapped[EventMode] = mapped_column(enum_column(EventMode))
    timezone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    city: Mapped[str | None] = mapped_column(String(120))
    venue: Mapped[str | None] = mapped_column(String(300))
    host_partner: Mapped[str] = mapped_column(String(200))
    # Replies to this event's mail and its calendar ORGANIZER (else the site's MAIL_REPLY_TO).
    contact_email: Mapped[str | None] = mapped_column(String(254))
    capacity: Mapped[int | None]
    registration_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    online_url: Mapped[str | None] = mapped_column(String(500))
    # Titles and descriptions in other languages: {"it": {"title": ..., "description": ...}},
    # and a multi-day event's day titles by local date: {"it": {"days": {"2027-03-24": ...}}}.
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    # The values the programme file gave the event when it was last loaded (JSON, times in
    # UTC): a field that differs from them was changed since, by an organiser.
    programme_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[EventStatus] = mapped_column(
        enum_column(EventStatus), default=EventStatus.PUBLISHED, server_default="published"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # A multi-day event's agenda, in date order; a one-day event has none.
    days: Mapped[list["EventDay"]] = relationship(
        back_populates="event",
        order_by="EventDay.starts_at",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def agenda(self) -> list[AgendaDay]:
        """The days as values, so that a change can be compared and set like a column."""
        return [AgendaDay(day.starts_at, day.ends_at, day.title) for day in self.days]

    @agenda.setter
    def agenda(self, days: list[AgendaDay]) -> None:
        # Rows are reused in place, so a changed agenda never deletes and re-inserts.
        days = sorted(days, key=lambda day: day.starts_at)
        for row, day in zip(self.days, days, strict=False):
            row.starts_at, row.ends_at, row.title = day.starts_at, day.ends_at, day.title
        for day in days[len(self.days) :]:
            self.days.append(
                EventDay(starts_at=day.starts_at, ends_at=day.ends_at, title=day.title)
            )
        del self.days[len(days) :]

    @property
    def is_multi_day(self) -> bool:
        return len(self.days) > 1

    @property
    def local_starts_at(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def local_ends_at(self) -> datetime:
        return self.ends_at.astimezone(self.zone)

    @property
    def local_dates(self) -> list[date]:
        """The days (in the event's zone) on which the event runs, first to last: its agenda's
        days when it has several (a free day between them is not one), else every day it spans."""
        if self.is_multi_day:
            return sorted({day.local_date for day in self.days})
        first, last = self.local_starts_at.date(), self.local_last_date
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    @property
    def local_last_date(self) -> date:
        """The last day the event runs on, in its zone (one ending at midnight: the day before)."""
        return last_date(self.starts_at, self.ends_at, self.zone)

    def has_started(self, now: datetime) -> bool:
        """Whether the event has begun at ``now``: too late for a reminder."""
        return self.starts_at <= now

    def has_ended(self, now: datetime) -> bool:
        """Whether the event is over at ``now``: what comes after it (feedback, certificates)."""
        return self.ends_at <= now

    def runs_on(self, moment: datetime) -> bool:
        """Whether the event runs on the local day of ``moment`` (e.g. a scan at the door)."""
        return moment.astimezone(self.zone).date() in self.local_dates

    def text_in(self, field: str, language: str) -> str:
        """The title or description in a language, falling back to English."""
        return (self.translations or {}).get(language, {}).get(field) or getattr(self, field)

    def day_titles_in(self, language: str) -> dict[str, str]:
        """The day titles translated into a language, by the day's local date (``2027-03-24``)."""
        return (self.translations or {}).get(language, {}).get("days") or {}

    def language_of(self, field: str, language: str) -> str:
        """The language ``text_in(field, language)`` is written in: ``language`` or ``en``."""
        translated = (self.translations or {}).get(language, {}).get(field)
        return language if translated else "en"

    @property
    def is_online(self) -> bool:
        return self.mode is EventMode.ONLINE

    @property
    def is_mission(self) -> bool:
        return self.kind is EventKind.MISSION

    @property
    def is_draft(self) -> bool:
        return self.status is EventStatus.DRAFT

    @property
    def slug_is_fixed(self) -> bool:
        """Once published, the slug is in e-mails, calendars, door phones and the programme
        file's match: it can no longer change (a draft's can)."""
        return not self.is_draft

    @property
    def is_published(self) -> bool:
        return self.status is EventStatus.PUBLISHED

    @property
    def is_cancelled(self) -> bool:
        return self.status is EventStatus.CANCELLED

    def registration_window(self, now: datetime | None = None) -> RegistrationWindow:
        """Where ``now`` falls relative to this event's registration window."""
        now = now or utcnow()
        if not self.is_published:
            return RegistrationWindow.CLOSED
        if now < self.registration_opens_at:
            return RegistrationWindow.NOT_YET_OPEN
        if now >= self.registration_closes_at or self.has_ended(now):
            return RegistrationWindow.CLOSED  # its closing date may lie after the end
        return RegistrationWindow.OPEN

    def is_registration_open(self, now: datetime | None = None) -> bool:
        return self.registration_window(now) is RegistrationWindow.OPEN

    def __repr__(self) -> str:
        return f"<Event {self.slug}>"


class EventDay(db.Model):
    """One day of a multi-day event: its own hours and, if given, what it is about."""

    __table_args__ = (CheckConstraint("ends_at > starts_at", name="day_ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str | None] = mapped_column(String(200))

    event: Mapped[Event] = relationship(back_populates="days")

    @property
    def local_starts_at(self) -> datetime:
        return self.starts_at.astimezone(self.event.zone)

    @property
    def local_ends_at(self) -> datetime:
        return self.ends_at.astimezone(self.event.zone)

    @property
    def local_date(self) -> date:
        return self.local_starts_at.date()

    def title_in(self, language: str) -> tuple[str | None, str]:
        """The day's title in a language and the language it is written in: the event's
        translation for this date (``translations[language]["days"]``), else the English title."""
        translated = self.event.day_titles_in(language).get(self.local_date.isoformat())
        return (translated, language) if translated else (self.title, "en")
