"""Attendance exports for organisers: CSV and XLSX, streamed row by row from one query.

Both formats carry the same columns and values, so a spreadsheet made from either adds up to
the statistics page. Times are UTC. A multi-day event's export adds a column per day of its
agenda (``attended_2026-11-24``: yes or no, checked in that day), and one for the check-ins on
other days (``attended_other_days``: staff checked the person in anyway, on a day the event did
not run), so that every check-in behind ``attended`` shows in a day column.
"""

import csv
import enum
import io
import tempfile
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Row, Select, func, select, type_coerce
from sqlalchemy import Enum as SQLEnum

from ..choices import SOCIAL_ECONOMY_TYPE_LABELS, TARGET_GROUP_LABELS, country_name
from ..config import LANGUAGES
from ..database import read_snapshot, streamed
from ..extensions import db
from ..formatting import CANCEL_REASON_LABELS, STATUS_LABELS
from ..models import DayCheckIn, Event, Registrant, Registration, RegistrationStatus
from ..models.types import UTCDateTime
from .spreadsheet import write_sheet

# Rows fetched per round trip; PostgreSQL streams them through a server-side cursor.
BATCH_SIZE = 1000
CHUNK_SIZE = 64 * 1024

# A spreadsheet reads a cell that starts with one of these as a formula, so a registrant named
# =HYPERLINK(...) could run one on the organiser's machine (OWASP "CSV Injection"; ASVS adds NUL).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")

# SQL for Registration.has_attended: checked in at the door or joined online.
HAS_ATTENDED = Registration.has_attended

COLUMNS = (
    Registration.reference.label("reference"),
    Event.slug.label("event"),
    Event.title.label("event_title"),
    Registration.status.label("status"),
    Registrant.first_name.label("first_name"),
    Registrant.last_name.label("last_name"),
    Registrant.email.label("email"),
    Registrant.organisation.label("organisation"),
    Registrant.job_title.label("job_title"),
    Registrant.country.label("country"),
    Registrant.target_group.label("target_group"),
    Registrant.social_economy_type.label("social_economy_type"),
    Registrant.language.label("language"),
    Registrant.network_opt_in.label("network_opt_in"),
    Registration.created_at.label("registered_at_utc"),
    Registration.confirmed_at.label("confirmed_at_utc"),
    Registration.cancelled_at.label("cancelled_at_utc"),
    Registration.cancel_reason.label("cancel_reason"),
    Registration.checked_in_at.label("checked_in_at_utc"),
    Registration.joined_online_at.label("joined_online_at_utc"),
    type_coerce(HAS_ATTENDED, Boolean).label("attended"),
    Registrant.needs.label("needs"),
)
HEADER = tuple(column.name for column in COLUMNS)
_SLUG, _TITLE = HEADER.index("event"), HEADER.index("event_title")
# A row with its event title replaced; read like a Row, by position or by column name.
_Record = namedtuple("_Record", HEADER)
# Readable labels, in the organiser's language, that a download may add after the codes.
LABEL_HEADER = (
    _l("Status"),
    _l("Country"),
    _l("Target group"),
    _l("Type of social-economy organisation"),
    _l("Language"),
    _l("Attended"),
    _l("Reason for cancellation"),
)
COLUMN_WIDTHS = {"event_title": 36, "email": 30, "organisation": 30, "needs": 40}


def attendee_query(event: Event | None = None) -> Select:
    """Every registration of the event (or of the whole programme) with its person and event."""
    query = (
        select(*COLUMNS)
        .select_from(Registration)
        .join(Registration.registrant)
        .join(Registration.event)
        .order_by(
            Event.starts_at,
            Event.id,
            func.lower(Registrant.last_name),
            func.lower(Registrant.first_name),
            Registration.id,
        )
    )
    return query if event is None else query.where(Registration.event_id == event.id)


def attendee_rows(event: Event | None = None, language: str = "en") -> Iterator[Row | tuple]:
    """The export's rows, fetched in batches so that memory stays flat however many there are.

    ``event_title`` is the title in ``language`` (the reader's), English where not translated.
    """
    read_snapshot()  # the day columns and the rows, read at one moment
    days = day_columns(event)
    attended = _days_attended(event) if days else {}
    rows = streamed(attendee_query(event), BATCH_SIZE)
    if language != "en":
        rows = _titles_in(rows, language)
    if days:
        rows = _with_days(rows, days, attended)
    yield from rows


def day_columns(event: Event | None) -> list[date]:
    """The days a multi-day event's export has a column for; none for any other export."""
    return event.local_dates if event is not None and event.is_multi_day else []


def _titles_in(rows: Iterable[Row], language: str) -> Iterator[tuple]:
    titles = {e.slug: e.text_in("title", language) for e in db.session.scalars(select(Event))}
    for row in rows:
        values = list(row)
        values[_TITLE] = titles.get(values[_SLUG], values[_TITLE])
        yield _Record(*values)


def _days_attended(event: Event) -> dict[str, set[date]]:
    """The days each of the event's registrations (by reference) was checked in on."""
    attended: dict[str, set[date]] = {}
    query = (
        select(Registration.reference, DayCheckIn.day)
        .join(Registration.day_check_ins)
        .where(Registration.event_id == event.id)
    )
    for reference, day in db.session.execute(query):
        attended.setdefault(reference, set()).add(day)
    return attended


def _with_days(
    rows: Iterable[Row], days: list[date], attended: dict[str, set[date]]
) -> Iterator[tuple]:
    """The rows with a yes or no for each day, read like a Row (by position or by name)."""
    names = (*(f"day_{n}" for n in range(len(days))), "other_days")
    record_type = namedtuple("_DayRecord", HEADER + names)
    agenda = set(days)
    for row in rows:
        came = attended.get(row.reference, set())
        other = " ".join(day.isoformat() for day in sorted(came - agenda))
        yield record_type(*row, *(_yes_no(day in came) for day in days), other)


def record(row: Row) -> tuple[Any, ...]:
    """One row as export values: text, yes/no, naive UTC datetimes, or None."""
    values = list(row)
    for index, plain in PLAIN_VALUES:  # only the columns that need it, chosen by type
        if (value := values[index]) is not None:
            values[index] = plain(value)
    return tuple(values)


def labels(row: Row) -> tuple[str, ...]:
    """The row's codes as the organiser reads them, in their language (see LABEL_HEADER)."""
    kind = row.social_economy_type
    return (
        str(STATUS_LABELS[row.status.value]),
        country_name(row.country) if row.country else "",
        str(TARGET_GROUP_LABELS[row.target_group]) if row.target_group else "",
        str(SOCIAL_ECONOMY_TYPE_LABELS[kind]) if kind else "",
        LANGUAGES.get(row.language, row.language or ""),
        _("yes") if row.attended else _("no"),
        str(CANCEL_REASON_LABELS[row.cancel_reason])
        if row.status is RegistrationStatus.CANCELLED
        else "",
    )


def csv_chunks(
    rows: Iterable[Row], *, with_labels: bool = False, days: Sequence[date] = ()
) -> Iterator[bytes]:
    """The rows as CSV: UTF-8 with a BOM so Excel reads it as UTF-8, every field quoted.

    ``days``: the day columns the rows carry (``day_columns``).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    buffer.write("\ufeff")
    writer.writerow(_header(with_labels, days))
    cells = CSV_CELLS + (_text,) * len(_day_header(days))
    for row in rows:
        line = [cell(value) for cell, value in zip(cells, row, strict=True)]
        if with_labels:
            line += [_text(label) for label in labels(row)]
        writer.writerow(line)
        if buffer.tell() >= CHUNK_SIZE:
            yield _drain(buffer)
    yield _drain(buffer)


def xlsx_chunks(
    rows: Iterable[Row], *, with_labels: bool = False, days: Sequence[date] = ()
) -> Iterator[bytes]:
    """The rows as an XLSX workbook, written through temporary files and read back in chunks."""
    with tempfile.TemporaryFile() as file:
        _write_workbook(rows, file, with_labels, days)
        file.seek(0)
        while chunk := file.read(CHUNK_SIZE):
            yield chunk


def neutralise(text: str) -> str:
    """Text that a spreadsheet shows as text: a leading apostrophe before a formula trigger."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def _text(value: Any) -> str:
    return "" if value is None else neutralise(str(value))


def _enum_text(value: enum.Enum | None) -> str:
    return "" if value is None else neutralise(value.value)


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _utc_text(value: datetime | None) -> str:
    if value is None:
        return ""
    return _naive_utc(value).isoformat() + "Z"


def _enum_value(value: enum.Enum) -> str:
    return value.value


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None, microsecond=0)


# Per kind of column: how its values are written to CSV, and how ``record`` turns them (never
# None) into export values (None: as they are). Testing every value's type instead took about a
# third of a large CSV export's time and a sixth of an XLSX's.
BY_COLUMN_TYPE = (
    (SQLEnum, _enum_text, _enum_value),
    (Boolean, _yes_no, _yes_no),
    (UTCDateTime, _utc_text, _naive_utc),
)


def _conversions(column) -> tuple[Callable[[Any], str], Callable[[Any], Any] | None]:
    """The column's CSV cell and export value, chosen once by its type."""
    for column_type, cell, plain in BY_COLUMN_TYPE:
        if isinstance(column.type, column_type):
            return cell, plain
    return _text, None


CSV_CELLS = tuple(_conversions(column)[0] for column in COLUMNS)
PLAIN_VALUES = tuple(
    (index, plain) for index, column in enumerate(COLUMNS) if (plain := _conversions(column)[1])
)


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def _day_header(days: Sequence[date]) -> tuple[str, ...]:
    """A column per day of the agenda, then one for check-ins on other days; none without days."""
    if not days:
        return ()
    return (*(f"attended_{day.isoformat()}" for day in days), "attended_other_days")


def _header(with_labels: bool, days: Sequence[date] = ()) -> tuple[str, ...]:
    header = HEADER + _day_header(days)
    return header + tuple(str(name) for name in LABEL_HEADER) if with_labels else header


def _write_workbook(
    rows: Iterable[Row], file: IO[bytes], with_labels: bool = False, days: Sequence[date] = ()
) -> None:
    header = _header(with_labels, days)
    widths = [COLUMN_WIDTHS.get(name, 18) for name in header]
    values = (record(row) + labels(row) if with_labels else record(row) for row in rows)
    write_sheet(file, "Attendees", header, values, widths=widths, quote_prefixes=FORMULA_TRIGGERS)
