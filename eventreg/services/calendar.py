"""Calendar data: a registrant's invitation, public .ics files and add-to-calendar links."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import quote, urlencode

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, vCalAddress
from icalendar import Event as CalendarEvent

from ..models import Event, EventDay, Registration
from .contact import reply_address

PRODID = "-//eventreg//Missions and webinars//EN"
METHODS = ("REQUEST", "CANCEL")
REMINDER_BEFORE = timedelta(hours=1)
FEED_REFRESH = timedelta(hours=12)
GOOGLE_URL = "https://calendar.google.com/calendar/render"
OUTLOOK_URL = "https://outlook.live.com/calendar/0/action/compose"


def invitation(
    registration: Registration,
    *,
    method: str = "REQUEST",
    sequence: int = 0,
    join_url: str | None = None,
    manage_url: str | None = None,
) -> bytes:
    """An iTIP REQUEST (the place is booked) or CANCEL (it is not) for one registration."""
    if method not in METHODS:
        raise ValueError(f"unsupported calendar method {method!r}")
    event = registration.event
    join_url = join_url if event.is_online else None
    cancelled = method == "CANCEL"
    with force_locale(registration.registrant.language):
        components = _calendar_events(
            event,
            uid=f"registration-{registration.reference.lower()}@eventreg",
            sequence=sequence,
            status="CANCELLED" if cancelled else "CONFIRMED",
            location=join_url or place(event),
            description=_invitation_description(event, join_url, manage_url),
            url=manage_url,
        )
        for component in components:
            component.attendees = [_attendee(registration, cancelled=cancelled)]
            if not cancelled:
                component.add_component(_reminder(event))
    return _serialise(_calendar(method, components), [event])


def event_calendar(event: Event, *, url: str | None = None) -> bytes:
    """A public .ics file for one event: no attendee and never the meeting link."""
    return _serialise(_calendar("PUBLISH", _public_event(event, url)), [event])


def programme_feed(events: Sequence[Event]) -> bytes:
    """A subscribable calendar of all the given events."""
    calendar = _calendar("PUBLISH", [part for event in events for part in _public_event(event)])
    calendar.calendar_name = current_app.config["SITE_NAME"]
    calendar.refresh_interval = FEED_REFRESH
    calendar.add("X-PUBLISHED-TTL", "PT12H")  # REFRESH-INTERVAL's older name, read by Outlook
    return _serialise(calendar, events)


@dataclass(frozen=True)
class CalendarLinks:
    """Add-to-calendar links for the whole event (``day`` None) or for one day of it."""

    day: EventDay | None
    google: str
    outlook: str


def calendar_links(event: Event) -> list[CalendarLinks]:
    """Google Calendar and Outlook.com links: one pair per day of a multi-day event, else one.

    Each service takes a single entry; one from the first morning to the last afternoon would
    fill the nights between with the event (the .ics files give every day its own entry).
    """
    days = event.days if event.is_multi_day else [None]
    return [
        CalendarLinks(day, google_calendar_link(event, day), outlook_calendar_link(event, day))
        for day in days
    ]


def google_calendar_link(event: Event, day: EventDay | None = None) -> str:
    """A link that opens Google Calendar with the event, or one day of it, filled in."""
    span = day or event
    query = {
        "action": "TEMPLATE",
        "text": _summary(event, day),
        "dates": f"{_utc_stamp(span.starts_at)}/{_utc_stamp(span.ends_at)}",
        "details": _text(event, "description"),
        "location": place(event),
        "ctz": event.timezone,
    }
    return f"{GOOGLE_URL}?{urlencode(query, quote_via=quote)}"


def outlook_calendar_link(event: Event, day: EventDay | None = None) -> str:
    """A link that opens Outlook.com's calendar with the event, or one day of it, filled in."""
    span = day or event
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": _summary(event, day),
        "startdt": _utc_iso(span.starts_at),
        "enddt": _utc_iso(span.ends_at),
        "body": _text(event, "description"),
        "location": place(event),
    }
    return f"{OUTLOOK_URL}?{urlencode(query, quote_via=quote)}"


def place(event: Event) -> str:
    """Where the event happens, as a person reads it: venue and city, or "Online"."""
    if event.is_online:
        return _("Online")
    return ", ".join(part for part in (event.venue, event.city) if part)


def _calendar(method: str, components: list[CalendarEvent]) -> Calendar:
    calendar = Calendar()
    calendar.prodid = PRODID
    calendar.version = "2.0"
    calendar.calscale = "GREGORIAN"
    calendar.method = method
    for component in components:
        calendar.add_component(component)
    return calendar


def _calendar_events(event: Event, **properties) -> list[CalendarEvent]:
    """The VEVENTs every calendar file shares: times in the event's own zone, the organiser.

    A multi-day event is one entry (one UID) with a VEVENT per day, so calendars show every
    day with its times and move or remove them all together: the first day repeats daily to
    the last (RRULE with COUNT), a free day between is left out (EXDATE), and each other day
    is an instance of that rule (RECURRENCE-ID: its date at the first day's start) with its
    own hours. Outlook and Exchange refuse an entry whose days are RDATEs without an RRULE.
    """
    days = event.days if event.is_multi_day else []
    if not days:
        return [_calendar_event(event, event.local_starts_at, event.local_ends_at, **properties)]
    first, *others = days
    master = _calendar_event(
        event, first.local_starts_at, first.local_ends_at, day=first, **properties
    )
    spanned = (days[-1].local_date - first.local_date).days + 1  # a free day between counts
    dates = [first.local_date + timedelta(days=n) for n in range(spanned)]
    master.add("RRULE", {"FREQ": "DAILY", "COUNT": len(dates)})
    on_agenda = {day.local_date for day in days}
    if free := [date for date in dates if date not in on_agenda]:
        master.add("EXDATE", [_occurrence(first, date) for date in free])
    instances = [
        _calendar_event(
            event,
            day.local_starts_at,
            day.local_ends_at,
            day=day,
            recurrence_id=_occurrence(first, day.local_date),
            **properties,
        )
        for day in others
    ]
    return [master, *instances]


def _occurrence(first: EventDay, day: date) -> datetime:
    """The daily rule's occurrence on ``day``: that date at the first day's local start."""
    start = first.local_starts_at
    return datetime.combine(day, start.time(), tzinfo=start.tzinfo)


def _calendar_event(
    event: Event, start: datetime, end: datetime, *, day: EventDay | None = None, **properties
) -> CalendarEvent:
    component = CalendarEvent.new(
        start=start,
        end=end,
        summary=_summary(event, day),
        organizer=_organizer(event),
        last_modified=event.updated_at,
        **properties,
    )
    language = _language(event, "title")
    day_title, day_language = day.title_in(str(get_locale())) if day else (None, language)
    if not day_title or day_language == language:  # a summary in two languages names neither
        component["SUMMARY"].params["LANGUAGE"] = language
    return component


def _summary(event: Event, day: EventDay | None) -> str:
    """The entry's title: the event's, then the day's title if it has one."""
    title = _text(event, "title")
    day_title = day.title_in(str(get_locale()))[0] if day is not None else None
    return f"{title}: {day_title}" if day_title else title


def _public_event(event: Event, url: str | None = None) -> list[CalendarEvent]:
    """The event as everyone sees it; called off, it stays under its UID so calendars drop it."""
    components = _calendar_events(
        event,
        uid=f"event-{event.slug}@eventreg",
        status="CANCELLED" if event.is_cancelled else "CONFIRMED",
        location=place(event),
        description=_text(event, "description"),
        url=url,
    )
    for component in components:
        if "DESCRIPTION" in component:
            component["DESCRIPTION"].params["LANGUAGE"] = _language(event, "description")
    return components


def _organizer(event: Event) -> vCalAddress:
    """Who answers for the event: its own contact (the host), the site's, else the sender."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    name, address = sender if isinstance(sender, tuple) else parseaddr(sender)
    if event.contact_email:
        name, address = event.host_partner, event.contact_email
    elif contact := reply_address(event):
        contact_name, address = parseaddr(contact)
        name = contact_name or name
    return vCalAddress.new(address, cn=name or None)


def _attendee(registration: Registration, *, cancelled: bool) -> vCalAddress:
    registrant = registration.registrant
    return vCalAddress.new(
        registrant.email,
        cn=registrant.full_name,
        role="REQ-PARTICIPANT",
        partstat=None if cancelled else "ACCEPTED",
    )


def _invitation_description(event: Event, join_url: str | None, manage_url: str | None) -> str:
    lines = [_text(event, "description")]
    if join_url:
        lines.append(f"{_('Your personal link to join')}: {join_url}")
    if manage_url:
        lines.append(f"{_('Manage your registration')}: {manage_url}")
    return "\n\n".join(line for line in lines if line)


def _reminder(event: Event) -> Alarm:
    alarm = Alarm.new(description=_text(event, "title"))
    alarm.add("ACTION", "DISPLAY")
    alarm.add("TRIGGER", -REMINDER_BEFORE)
    return alarm


def _serialise(calendar: Calendar, events: Sequence[Event]) -> bytes:
    """The calendar as bytes, with a VTIMEZONE for each zone, spanning only the events' years."""
    if events:
        first = min(event.local_starts_at for event in events)
        last = max(event.local_ends_at for event in events)
        calendar.add_missing_timezones(
            first_date=date(first.year, 1, 1), last_date=date(last.year + 1, 1, 1)
        )
    return calendar.to_ical()


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(event: Event, field: str) -> str:
    """Title or description in the language being rendered."""
    return event.text_in(field, str(get_locale()))


def _language(event: Event, field: str) -> str:
    """The language ``_text`` gives that text in (RFC 5545 LANGUAGE): the reader's, or English."""
    return event.language_of(field, str(get_locale()))
