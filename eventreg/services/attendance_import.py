"""Attendance at online events from the meeting platform's participant report (Zoom or Teams).

The report is matched by e-mail to the event's confirmed registrations; an organiser sees what
it would record before applying it, and applying keeps the earliest join of each person.
"""

import codecs
import csv
import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from ..addresses import canonical
from ..database import locking, write_transaction
from ..extensions import db
from ..models import Event, Registrant, Registration, RegistrationStatus, User
from . import audit

# Column names as Zoom and Teams write them, lower-case, without "(original name)" and the like.
COLUMNS = {
    "name": {"name", "full name", "user name", "display name", "participant", "participant name"},
    "first_name": {"first name"},
    "last_name": {"last name"},
    "email": {"email", "e-mail", "user email", "email address", "e-mail address"},
    "joined": {"join time", "first join", "first join time", "joined", "joined at"},
    "attended": {"attended"},  # Zoom webinar reports list registrants who never came: "No"
    "waiting_room": {"in waiting room"},  # Zoom lists people waiting to be admitted: "Yes"
}
DELIMITERS = ("\t", ";", ",")
# Platforms write local times without a zone, in the order of the exporter's locale.
DATE_FORMATS = (
    "%m/%d/%Y", "%d/%m/%Y", "%m/%d/%y", "%d/%m/%y", "%d.%m.%Y", "%d.%m.%y",
    "%Y-%m-%d", "%Y/%m/%d", "%b %d %Y", "%d %b %Y", "%B %d %Y", "%d %B %Y",
)  # fmt: skip
TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")
# A join time further than this from the event belongs to another meeting or a misread date.
PLAUSIBLE_JOIN_MARGIN = timedelta(days=1)
PREVIEW_MAX_AGE_SECONDS = 3600


class ReportError(ValueError):
    """The file is not a participant report we can read."""


class PreviewExpired(ValueError):
    """The preview was tampered with, is for another event, or is more than an hour old."""


class Unmatched(enum.StrEnum):
    NO_EMAIL = "no_email"
    NOT_REGISTERED = "not_registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Participant:
    """One person of the report; several rows of the same e-mail are merged (earliest join)."""

    name: str
    email: str
    joined_at: datetime | None  # None when the report's time cannot be read


@dataclass(frozen=True)
class Match:
    participant: Participant
    registration: Registration
    joined_at: datetime  # what applying would store

    @property
    def changes_join_time(self) -> bool:
        current = self.registration.joined_online_at
        return current is None or self.joined_at < current


@dataclass
class ImportPreview:
    """What applying the report would do, for the organiser to check first."""

    report_name: str
    to_record: list[Match] = field(default_factory=list)
    already_attended: list[Match] = field(default_factory=list)
    unmatched: list[tuple[Participant, Unmatched]] = field(default_factory=list)
    skipped: int = 0  # rows of people who did not attend (Zoom "Attended: No", waiting room)

    @property
    def changes(self) -> list[Match]:
        """What applying records: new attendances and earlier join times; the button's count."""
        return [m for m in self.to_record + self.already_attended if m.changes_join_time]

    @property
    def earlier_joins(self) -> list[Match]:
        """People who had attended and whose earlier join in the report replaces a later one."""
        return [m for m in self.already_attended if m.changes_join_time]

    @property
    def unchanged(self) -> list[Match]:
        """People who had attended already, at least as early as the report says."""
        return [m for m in self.already_attended if not m.changes_join_time]


def preview_report(event: Event, data: bytes, report_name: str = "") -> ImportPreview:
    """Read a participant report and match it to the event's registrations, writing nothing."""
    try:
        participants, skipped = read_participants(data, event)
    except csv.Error as exc:  # e.g. a field longer than any real name or e-mail address
        raise ReportError(_l("A line of this file is too long for a participant report.")) from exc
    preview = ImportPreview(report_name=report_name, skipped=skipped)
    found = _registrations_by_email(event, [p.email for p in participants if p.email])
    for participant in participants:
        registration = found.get(participant.email) if participant.email else None
        if not participant.email:
            preview.unmatched.append((participant, Unmatched.NO_EMAIL))
        elif registration is None:
            preview.unmatched.append((participant, Unmatched.NOT_REGISTERED))
        elif not registration.is_confirmed:
            preview.unmatched.append((participant, Unmatched(registration.status.value)))
        else:
            joined_at = participant.joined_at or event.starts_at
            bucket = preview.already_attended if registration.has_attended else preview.to_record
            bucket.append(Match(participant, registration, joined_at))
    return preview


def apply_import(
    event: Event, joins: dict[int, datetime], *, actor: User, report_name: str = ""
) -> int:
    """Record online attendance, keeping each person's earliest join; return how many changed."""
    changed = 0
    with write_transaction():
        locked = db.session.scalars(
            locking(
                select(Registration)
                .where(Registration.id.in_(list(joins)))
                .where(Registration.event_id == event.id)
                .where(Registration.status == RegistrationStatus.CONFIRMED)
                .order_by(Registration.id)
            )
        )
        for registration in locked:
            joined_at = joins[registration.id]
            current = registration.joined_online_at
            if current is not None and current <= joined_at:
                continue
            registration.joined_online_at = joined_at
            audit.record(
                "joined_online_imported",
                registration=registration,
                actor=actor,
                joined_at=joined_at.isoformat(),
                report=report_name,
            )
            changed += 1
    return changed


def preview_token(event: Event, preview: ImportPreview) -> str:
    """The changes the organiser saw, signed, to be applied as seen and only for this event."""
    payload = {
        "event": event.id,
        "report": preview.report_name,
        "joins": [[m.registration.id, m.joined_at.isoformat()] for m in preview.changes],
    }
    return _serializer().dumps(payload)


def changes_from_token(event: Event, token: str) -> tuple[dict[int, datetime], str]:
    """The signed changes of a preview and the report's name; PreviewExpired when not valid."""
    try:
        payload: dict[str, Any] = _serializer().loads(token, max_age=PREVIEW_MAX_AGE_SECONDS)
    except BadSignature as error:
        raise PreviewExpired from error
    if payload.get("event") != event.id:
        raise PreviewExpired
    joins = {int(rid): datetime.fromisoformat(moment) for rid, moment in payload["joins"]}
    return joins, payload.get("report", "")


def read_participants(data: bytes, event: Event) -> tuple[list[Participant], int]:
    """The people a Zoom or Teams report lists as present, and how many rows it lists as absent."""
    lines = _decode(data).splitlines()
    columns: dict[str, int] | None = None
    delimiter = ","
    people: dict[str, Participant] = {}
    without_email: list[Participant] = []
    skipped = 0
    for line in lines:
        header = _header(line)
        if header is not None:
            columns, delimiter = header
            continue
        if columns is None or not line.strip():
            continue
        cells = next(csv.reader([line], delimiter=delimiter))
        if len(cells) <= max(columns.values()):
            continue  # a section title such as Zoom's "Attendee Details"
        row = {key: cells[index].strip() for key, index in columns.items()}
        if _absent(row):
            skipped += 1
            continue
        person = Participant(
            name=_name(row),
            email=canonical(row["email"]),  # as the forms store it (the domain in ASCII)
            joined_at=parse_join_time(row.get("joined", ""), event),
        )
        if not person.email:
            without_email.append(person)
        else:
            people[person.email] = _earliest(people.get(person.email), person)
    if columns is None:
        raise ReportError(
            _l("No column of names and e-mail addresses was found: is this a participant report?")
        )
    return [*people.values(), *without_email], skipped


def parse_join_time(text: str, event: Event) -> datetime | None:
    """A report's join time, read in the event's zone; the reading nearest the event wins."""
    text = " ".join(text.replace(",", " ").split())
    if not text:
        return None
    try:
        candidates = [datetime.fromisoformat(text)]
    except ValueError:
        candidates = [
            moment
            for date_format in DATE_FORMATS
            for time_format in TIME_FORMATS
            if (moment := _strptime(text, f"{date_format} {time_format}")) is not None
        ]
    aware = [m if m.tzinfo else m.replace(tzinfo=event.zone) for m in candidates]
    earliest = event.starts_at - PLAUSIBLE_JOIN_MARGIN
    latest = event.ends_at + PLAUSIBLE_JOIN_MARGIN
    plausible = [m for m in aware if earliest <= m <= latest]
    return min(plausible, key=lambda m: abs(m - event.starts_at), default=None)


def _decode(data: bytes) -> str:
    """Teams writes UTF-16 with a BOM, Zoom UTF-8 (with a BOM when saved from Excel)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    head = data[:400]
    if head and head.count(b"\x00") > len(head) // 4:  # UTF-16 without a BOM
        odd_zeros = head[1::2].count(b"\x00") > head[0::2].count(b"\x00")
        return data.decode("utf-16-le" if odd_zeros else "utf-16-be", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # re-saved by a spreadsheet on Windows


def _header(line: str) -> tuple[dict[str, int], str] | None:
    """The columns we use and the separator, when the line is the header of a participant list."""
    for delimiter in DELIMITERS:
        if delimiter not in line:
            continue
        cells = next(csv.reader([line], delimiter=delimiter))
        names = [_column_name(cell) for cell in cells]
        columns = {
            key: names.index(name)
            for key, aliases in COLUMNS.items()
            for name in names
            if name in aliases
        }
        if "email" in columns and ("name" in columns or "first_name" in columns):
            return columns, delimiter
    return None


def _column_name(cell: str) -> str:
    """``Name (original name)`` and ``User Email`` as ``name`` and ``user email``."""
    return " ".join(re.sub(r"\(.*?\)", " ", cell.replace("\ufeff", "")).lower().split())


def _absent(row: dict[str, str]) -> bool:
    """Zoom lists registrants who never came and people left in the waiting room."""
    return row.get("attended", "").lower() == "no" or row.get("waiting_room", "").lower() == "yes"


def _name(row: dict[str, str]) -> str:
    if row.get("name"):
        return row["name"]
    return " ".join(filter(None, (row.get("first_name"), row.get("last_name"))))


def _earliest(known: Participant | None, other: Participant) -> Participant:
    """One person who joined several times: keep the first join."""
    if known is None:
        return other
    timed = [p for p in (known, other) if p.joined_at is not None]
    return min(timed, key=lambda p: p.joined_at) if timed else known


def _strptime(text: str, pattern: str) -> datetime | None:
    try:
        return datetime.strptime(text, pattern)
    except ValueError:
        return None


def _registrations_by_email(event: Event, emails: list[str]) -> dict[str, Registration]:
    """The event's registrations (any status) of these lower-case e-mail addresses."""
    if not emails:
        return {}
    query = (
        select(Registration)
        .join(Registration.registrant)
        .where(Registration.event_id == event.id)
        .where(func.lower(Registrant.email).in_(set(emails)))
        .options(contains_eager(Registration.registrant))
    )
    found: dict[str, Registration] = {}
    for registration in db.session.scalars(query):
        email = registration.registrant.email.lower()
        if email not in found or not found[email].is_active:  # an active one over a cancelled one
            found[email] = registration
    return found


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="attendance-import")
