"""A multi-day event's agenda: reading its days from the programme file or the organiser form."""

import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from ..local_times import LocalTimeError, aware, last_date
from ..models import AgendaDay, Event

_LINE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})\s+(?P<start>\d{1,2}:\d{2})\s*[-–]\s*(?P<end>\d{1,2}:\d{2})"
    r"(?:\s+(?P<title>.*\S))?\s*$"
)


# A translated day title in the organiser form: the day's date, then the title.
_TITLE_LINE = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})\s+(?P<title>.*\S)\s*$")


class AgendaError(ValueError):
    """The agenda is not valid; the message says which day and why."""


def days_from_spec(entries: Any, zone: ZoneInfo) -> list[AgendaDay]:
    """``[[events.days]]`` tables (``date``, ``start``, ``end``, optional ``title``) as days."""
    if not isinstance(entries, list):
        raise AgendaError("days must be a list of [[events.days]] tables")
    days = []
    for number, entry in enumerate(entries, start=1):
        unknown = set(entry) - {"date", "start", "end", "title"}
        if unknown:
            raise AgendaError(f"day {number}: unknown keys {sorted(unknown)}")
        day, start, end = entry.get("date"), entry.get("start"), entry.get("end")
        if not isinstance(day, date) or isinstance(day, datetime):
            raise AgendaError(f"day {number}: date must be a date such as 2027-03-24")
        if not isinstance(start, time) or not isinstance(end, time):
            raise AgendaError(f"day {number}: start and end must be times such as 09:00:00")
        title = str(entry.get("title") or "").strip() or None
        days.append(_day(day, start, end, title, zone))
    return days


def days_from_text(text: str, zone: ZoneInfo, kept: Sequence[AgendaDay] = ()) -> list[AgendaDay]:
    """The organiser form's agenda: one day a line, ``2027-03-24 09:00-17:30 Optional title``.

    A line whose date and hours are those of one of ``kept`` (the days the edit page showed, in
    the same zone) keeps that day's moments: also one in an hour the clocks repeat, saved before
    such hours were refused, which only a line typed anew must avoid."""
    shown = {_shown_hours(day, zone): day for day in kept}
    days = []
    for line in (line.strip() for line in (text or "").splitlines()):
        if not line:
            continue
        match = _LINE.match(line)
        try:
            day = date.fromisoformat(match["date"]) if match else None
            start = time.fromisoformat(match["start"].zfill(5)) if match else None
            end = time.fromisoformat(match["end"].zfill(5)) if match else None
        except ValueError:
            day = None
        if day is None:
            raise AgendaError(
                _(
                    "“%(line)s” is not a day of the agenda: write the date, the hours and, "
                    "if you wish, a title, such as 2027-03-24 09:00-17:30 Site visits.",
                    line=line,
                )
            )
        if known := shown.get((day, start, end)):
            days.append(AgendaDay(known.starts_at, known.ends_at, match["title"]))
        else:
            days.append(_day(day, start, end, match["title"], zone))
    return days


def _shown_hours(day: AgendaDay, zone: ZoneInfo) -> tuple[date, time, time]:
    """A day's date and hours as the form's agenda line shows them (to the minute)."""
    start, end = day.starts_at.astimezone(zone), day.ends_at.astimezone(zone)
    return start.date(), time(start.hour, start.minute), time(end.hour, end.minute)


def agenda_dates(text: str) -> set[str]:
    """The dates (``2027-03-24``) of the organiser form's agenda lines that read as days."""
    matches = (_LINE.match(line.strip()) for line in (text or "").splitlines())
    return {match["date"] for match in matches if match}


def day_titles_from_text(text: str, dates: set[str]) -> dict[str, str]:
    """Day titles in another language from the organiser form: one a line, its date first
    (``2027-03-24 Visite in loco``), each date one of the agenda's ``dates``."""
    titles = {}
    for line in (line.strip() for line in (text or "").splitlines()):
        if not line:
            continue
        match = _TITLE_LINE.match(line)
        if match is None or match["date"] not in dates:
            raise AgendaError(
                _(
                    "“%(line)s”: start the line with one of the agenda's dates, then the title.",
                    line=line,
                )
            )
        if match["date"] in titles:
            raise AgendaError(
                _("“%(line)s”: a line above already gives this day a title.", line=line)
            )
        titles[match["date"]] = match["title"]
    return titles


def moved_days(event: Event, agenda: str) -> dict[str, str]:
    """Where the event's days went in a changed agenda (the organiser form's text), old date
    to new, so that their titles in other languages follow them. A day goes to the one new day
    with its English title; failing that, it keeps its date if the agenda still has it; failing
    that, when the agenda keeps its number of days, it goes to the day in its place. A day with
    none of these was taken out."""
    before = [(day.local_date.isoformat(), day.title) for day in event.days]
    matches = (_LINE.match(line.strip()) for line in (agenda or "").splitlines())
    after = sorted((match["date"], match["title"]) for match in matches if match)
    titled = Counter(title for _, title in before + after if title)
    moves = {
        old: new
        for old, title in before
        for new, new_title in after
        if title and title == new_title and titled[title] == 2
    }
    old_dates = [old for old, _title in before]
    new_dates = [new for new, _title in after]
    for old in old_dates:
        if old not in moves and old in new_dates and old not in moves.values():
            moves[old] = old
    if len(old_dates) == len(new_dates):
        for old, new in zip(old_dates, new_dates, strict=True):
            if old not in moves and new not in moves.values():
                moves[old] = new
    return moves


def redated_day_titles(text: str, moves: dict[str, str]) -> str:
    """Day-title lines (``2027-03-24 Visite in loco``) with each date moved as ``moves`` says;
    a line for a day that went nowhere (taken out of the agenda) goes with it."""
    lines = []
    for line in text.splitlines():
        match = _TITLE_LINE.match(line.strip())
        if match and match["date"] in moves:
            lines.append(f"{moves[match['date']]} {match['title']}")
    return "\n".join(lines)


def day_titles_text(event: Event, language: str) -> str:
    """The event's day titles in a language, written the way the organiser form reads them
    back: a line for each day of the agenda that has one. A title kept for a date the agenda
    no longer has (its days moved) is left out, so saving the form drops it."""
    titles = event.day_titles_in(language)
    dates = [day.local_date.isoformat() for day in event.days]
    return "\n".join(f"{date} {titles[date]}" for date in dates if date in titles)


def agenda_text(event: Event) -> str:
    """The event's agenda written the way the organiser form reads it back."""
    return "\n".join(
        " ".join(
            part
            for part in (
                day.local_date.isoformat(),
                f"{day.local_starts_at:%H:%M}-{day.local_ends_at:%H:%M}",
                day.title,
            )
            if part
        )
        for day in event.days
    )


def check_days(
    days: Sequence[AgendaDay], starts_at: datetime, ends_at: datetime, zone: ZoneInfo
) -> None:
    """Days must end after they start, not overlap, fall on dates of their own (one day a
    date) and on the event's dates, between its start and its end (a reminder, the door and
    the calendar go by those)."""
    ordered = sorted(days, key=lambda day: day.starts_at)
    first, last = starts_at.astimezone(zone).date(), last_date(starts_at, ends_at, zone)
    for index, day in enumerate(ordered):
        if day.ends_at <= day.starts_at:
            raise AgendaError(_("Each day of the agenda must end after it starts."))
        if not first <= day.starts_at.astimezone(zone).date() <= last:
            raise AgendaError(_("Each day of the agenda must fall within the event's dates."))
        if day.starts_at < starts_at or day.ends_at > ends_at:
            raise AgendaError(
                _("Each day of the agenda must fall between the event's start and its end.")
            )
        if index and day.starts_at < ordered[index - 1].ends_at:
            raise AgendaError(_("Two days of the agenda overlap."))
        if index and _date(day, zone) == _date(ordered[index - 1], zone):
            # Day titles, check-ins and the sign-in sheet's columns go by the date.
            raise AgendaError(
                _("Two days of the agenda fall on the same date: give each date one line.")
            )


def _date(day: AgendaDay, zone: ZoneInfo) -> date:
    return day.starts_at.astimezone(zone).date()


def _day(day: date, start: time, end: time, title: str | None, zone: ZoneInfo) -> AgendaDay:
    try:
        return AgendaDay(
            aware(datetime.combine(day, start), zone).astimezone(UTC),
            aware(datetime.combine(day, end), zone).astimezone(UTC),
            title,
        )
    except LocalTimeError as exc:
        raise AgendaError(str(exc)) from exc
