"""Check-ins as JSON, for the API and the check-in page."""

from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from flask_babel import gettext as _

from .formatting import STATUS_LABELS, formatting_locale, local_title
from .models import Event, Registration
from .services.checkin import (
    CheckIn,
    CheckinResult,
    DayOfCheckIn,
    DoorCount,
    checked_in_at_door,
    door_day,
    undoable_check_in,
)

# Door staff see name, organisation and accessibility needs of their own event's people only.
_SHOWS_NEEDS = (CheckinResult.OK, CheckinResult.ALREADY_CHECKED_IN, CheckinResult.NOT_TODAY)
# How the door's screen shows each verdict: green, yellow (seen before), red, or amber for a
# day the event does not run, which staff may overrule (the person or the programme may be wrong).
_TONES = {
    CheckinResult.OK: "ok",
    CheckinResult.ALREADY_CHECKED_IN: "warn",
    CheckinResult.NOT_TODAY: "amber",
}


def checkin_json(outcome: CheckIn, event: Event) -> dict[str, Any]:
    """The API's answer to a scan."""
    holder = outcome.holder
    body: dict[str, Any] = {
        "result": outcome.result.value,
        "name": None,
        "organisation": None,
        "checked_in_at": None,
    }
    # Staff at one event learn nothing about the people of another.
    if holder is None or holder.event_id != event.id:
        return body
    body["name"] = holder.full_name
    body["organisation"] = holder.organisation
    body["reference"] = holder.reference
    body["checked_in_at"] = _local_iso(holder.checked_in_at, event)
    if event.is_multi_day and holder.day is not None:
        body["day"] = holder.day.isoformat()  # what an undo of it names
    if outcome.result is CheckinResult.ALREADY_CHECKED_IN:
        body["checked_in_by"] = holder.checked_in_by
    if outcome.result in _SHOWS_NEEDS and holder.needs:
        body["needs"] = holder.needs
    return body


def page_checkin_json(outcome: CheckIn, event: Event) -> dict[str, Any]:
    """The page's answer to a scan: the API's, with all the page shows (it decides nothing)."""
    return checkin_json(outcome, event) | {
        "message": _message(outcome, event),
        "tone": _TONES.get(outcome.result, "bad"),
        "admitted": outcome.result is CheckinResult.OK,
        "can_confirm": outcome.result is CheckinResult.NOT_TODAY,
    }


def undo_json(
    registration: Registration, event: Event, *, undone: DayOfCheckIn | None, day: date | None
) -> dict[str, Any]:
    """The page's answer to an undo: whether there was a check-in to take back, and the person."""
    return undo_api_json(registration, event, undone=undone) | {
        "message": _undo_message(event, undone, day),
        "tone": "info",
        "person": person_json(registration, event),
    }


def undo_api_json(
    registration: Registration, event: Event, *, undone: DayOfCheckIn | None
) -> dict[str, Any]:
    """The API's answer to an undo: the check-in taken back (its time and day), if any."""
    return {
        "undone": undone is not None,
        "reference": registration.reference,
        "checked_in_at": _local_iso(undone.checked_in_at if undone else None, event),
        "day": _day_iso(undone),
    }


def person_json(registration: Registration, event: Event) -> dict[str, Any]:
    """A search result on the check-in page: nothing beyond what the door needs.

    At a multi-day event the check-in shown is today's: yesterday's does not admit today. The
    undo takes back today's, or the latest if it was just made (before midnight: ``undo_day``).
    """
    checked_in_at = checked_in_at_door(registration)
    undoable = undoable_check_in(registration)
    today = DayOfCheckIn(checked_in_at, door_day(event)) if checked_in_at else None
    return {
        "reference": registration.reference,
        "name": registration.registrant.full_name,
        "organisation": registration.registrant.organisation,
        "status": registration.status.value,
        "checked_in_at": _local_iso(checked_in_at, event),
        "can_check_in": registration.is_confirmed and checked_in_at is None,
        "can_undo": undoable is not None,
        "undo_day": _day_iso(undoable) if event.is_multi_day else None,
        "badge": _badge(registration, today or undoable, event),
    }


def count_json(count: DoorCount) -> dict[str, int]:
    return {"checked_in": count.checked_in, "confirmed": count.confirmed}


def _badge(
    registration: Registration, check_in: DayOfCheckIn | None, event: Event
) -> dict[str, str] | None:
    """What a search result shows beside the name: the check-in, or why there can be none."""
    if check_in is not None:
        time = _clock(check_in.checked_in_at, event)
        if event.is_multi_day and door_day(event) != check_in.day:
            return {"tone": "confirmed", "text": _("Checked in yesterday at %(time)s", time=time)}
        if event.is_multi_day:
            return {"tone": "confirmed", "text": _("Checked in today at %(time)s", time=time)}
        return {"tone": "confirmed", "text": _("Checked in at %(time)s", time=time)}
    if registration.is_confirmed:
        return None  # the button to check in says it all
    tone = "waitlist" if registration.is_waitlisted else "cancelled"
    return {"tone": tone, "text": str(STATUS_LABELS[registration.status.value])}


def _message(outcome: CheckIn, event: Event) -> str:
    holder = outcome.holder
    match outcome.result:
        case CheckinResult.OK:
            return _("Checked in")
        case CheckinResult.ALREADY_CHECKED_IN if event.is_multi_day:
            return _(
                "Already checked in today at %(time)s by %(staff)s",
                time=_clock(holder.checked_in_at, event),
                staff=holder.checked_in_by or _("someone"),
            )
        case CheckinResult.ALREADY_CHECKED_IN:
            return _(
                "Already checked in at %(time)s by %(staff)s",
                time=_clock(holder.checked_in_at, event),
                staff=holder.checked_in_by or _("someone"),
            )
        case CheckinResult.CANCELLED:
            return _("Not admitted: this registration was cancelled")
        case CheckinResult.WAITLISTED:
            return _("Not admitted: on the waiting list, no seat")
        case CheckinResult.NOT_TODAY:
            return _("Not today: this event runs on %(days)s", days=_days(event))
        case CheckinResult.WRONG_EVENT:
            title = local_title(outcome.ticket_event)
            return _("Not admitted: this ticket is for %(title)s", title=title)
        case _:
            return _("Not admitted: this code is not a ticket")


def _undo_message(event: Event, undone: DayOfCheckIn | None, day: date | None) -> str:
    if undone is not None and event.is_multi_day:
        return _("Check-in of %(day)s undone", day=_date(undone.day))
    if undone is not None:
        return _("Check-in undone")
    if day is not None:
        return _("Nothing to undo: no check-in on %(day)s", day=_date(day))
    return _("Nothing to undo")


def _date(day: date) -> str:
    return format_date(day, "medium", locale=formatting_locale())


def _days(event: Event) -> str:
    """The event's days in the reader's language, e.g. ``24 Mar 2031, 25 Mar 2031``."""
    return ", ".join(_date(day) for day in event.local_dates)


def _day_iso(check_in: DayOfCheckIn | None) -> str | None:
    """The day a check-in counts for, as an undo names it (``2027-03-24``)."""
    return check_in.day.isoformat() if check_in else None


def _local_iso(moment: datetime | None, event: Event) -> str | None:
    return moment.astimezone(event.zone).isoformat() if moment else None


def _clock(moment: datetime | None, event: Event) -> str | None:
    """Hours and minutes in the event's zone, as a door shows them (``10:02``)."""
    return moment.astimezone(event.zone).strftime("%H:%M") if moment else None
