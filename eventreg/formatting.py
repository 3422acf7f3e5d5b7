"""Dates and times as people read them: in the event's own zone and the reader's language."""

import re
from datetime import date, datetime, timedelta
from functools import cache
from itertools import groupby
from math import ceil
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_time,
    format_timedelta,
    get_timezone_location,
    get_timezone_name,
)
from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from .choices import (
    REPORT_REASON_LABELS,
    TARGET_GROUP_LABELS,
    country_name,
    target_group_choices,
)
from .models import (
    CancelReason,
    MessageKind,
    MessageStatus,
    RegistrationStatus,
    Role,
    SkipReason,
    utcnow,
)

# English pages are read across Europe: day month year and the 24-hour clock, not US style.
_FORMAT_LOCALES = {"en": Locale.parse("en_GB")}


def formatting_locale() -> Locale:
    """The locale dates and times are written in: the reader's, British for English."""
    locale = get_locale()
    return _FORMAT_LOCALES.get(str(locale), locale)


def language_name(code: str) -> str:
    """A language's name in the reader's language, for a sentence: "shown in Danish", and in
    Bulgarian "показано на датски" (the picker names each language in itself instead)."""
    return formatting_locale().languages.get(code, code)


def days_zone_name(event) -> str:
    """The zone a multi-day event's days are given in: named for the season when they share
    it, by its general name (Central European Time) when the clocks change between them."""
    offsets = {day.local_starts_at.utcoffset() for day in event.days}
    if len(offsets) == 1:
        return zone_name(event.days[0].local_starts_at)
    return general_zone_name(event.zone)


def general_zone_name(zone: ZoneInfo) -> str:
    """A zone by its general long name, whatever the season (Central European Time)."""
    return get_timezone_name(zone, width="long", locale=formatting_locale())


def zone_name(moment: datetime) -> str:
    """The zone of an aware moment by its localised long name (Central European Summer Time)."""
    return get_timezone_name(
        moment, width="long", locale=formatting_locale(), zone_variant=_variant(moment)
    )


def _variant(moment: datetime) -> str:
    """Summer ("daylight") when the moment's offset is the larger of its zone's that year.
    Babel would go by ``dst()``, which Ireland's rules give as negative in winter (Irish
    Standard Time is the summer's): Dublin read "Greenwich Mean Time" all summer."""
    offsets = {
        datetime(moment.year, month, 1, tzinfo=moment.tzinfo).utcoffset() for month in (1, 7)
    }
    return "daylight" if moment.utcoffset() > min(offsets) else "standard"


def zone_choices(current: str | None = None) -> list[tuple[str, str]]:
    """Europe's time zones for a select, named by city and zone in the reader's language;
    with ``current`` (an event's zone, which a programme file may set to any) among them, so
    that saving the form never moves the event to another zone."""
    locale = formatting_locale()
    choices = _zone_choices(locale)
    if current and current not in {zone for zone, _label in choices}:
        choices = sorted([*choices, _zone_choice(current, locale)], key=lambda choice: choice[1])
    return choices


# Europe's zones filed under the Atlantic: the Canary Islands, Madeira, the Azores, the Faroes.
_ATLANTIC_EUROPE = frozenset(
    ("Atlantic/Canary", "Atlantic/Madeira", "Atlantic/Azores", "Atlantic/Faroe")
)


@cache
def _zone_choices(locale: Locale) -> list[tuple[str, str]]:
    zones = (
        zone
        for zone in available_timezones()
        if zone.startswith("Europe/") or zone in _ATLANTIC_EUROPE
    )
    return sorted((_zone_choice(zone, locale) for zone in zones), key=lambda choice: choice[1])


def _zone_choice(zone: str, locale: Locale) -> tuple[str, str]:
    return (
        zone,
        f"{get_timezone_location(zone, locale=locale, return_city=True)} – "
        f"{get_timezone_name(zone, width='long', locale=locale)}",
    )


def event_date(event) -> str:
    """The event's date, or its first and last day, in its own zone."""
    start, last = event.local_starts_at, event.local_last_date
    locale = formatting_locale()
    if start.date() == last:
        return format_date(start, "full", locale=locale)
    return (
        f"{format_date(start, 'long', locale=locale)} – {format_date(last, 'long', locale=locale)}"
    )


def event_time(event) -> str:
    """Start and end time in the event's zone, with the zone named in the reader's language."""
    start, end = event.local_starts_at, event.local_ends_at
    locale = formatting_locale()
    times = (
        f"{format_time(start, 'short', locale=locale)} – {format_time(end, 'short', locale=locale)}"
    )
    return f"{times} ({zone_name(start)})"


def event_when(event) -> str:
    """When the event is, on one line: its date and hours, or a multi-day event's first and
    last day (its days have hours of their own: the first day's start and the last day's end
    are no one day's hours)."""
    if event.is_multi_day:
        return event_date(event)
    return f"{event_date(event)}, {event_time(event)}"


def day_line(day) -> str:
    """One day of a multi-day event: its date, hours and title (``Wednesday, 24 March 2027,
    09:00 – 18:00: Site visits``), in the event's zone and the reader's language."""
    when = day_when(day)
    title, _language = day.title_in(str(get_locale()))
    return f"{when}: {title}" if title else when


def day_line_html(day) -> Markup:
    """``day_line`` for pages and HTML e-mails: a title not translated into the reader's
    language is marked as the English it is written in (WCAG 3.1.2)."""
    when = day_when(day)
    reader = str(get_locale())
    title, language = day.title_in(reader)
    if not title:
        return Markup.escape(when)
    if language == reader:
        return Markup("{}: {}").format(when, title)
    return Markup('{}: <span lang="{}">{}</span>').format(when, language, title)


def day_when(day) -> str:
    """The day's date and hours in the reader's language."""
    return span_when(day.local_starts_at, day.local_ends_at)


def span_when(start: datetime, end: datetime) -> str:
    """A date and the hours on it (``Thursday, 25 March 2027, 09:00 – 17:30``), as local
    moments are given, in the reader's language."""
    locale = formatting_locale()
    hours = (
        f"{format_time(start, 'short', locale=locale)} – {format_time(end, 'short', locale=locale)}"
    )
    return f"{format_date(start, 'full', locale=locale)}, {hours}"


def day_date(day) -> str:
    """A day's date in the event's zone, short (Tue 25 Mar), in the reader's language."""
    return format_skeleton("MMMEd", day.local_starts_at, locale=formatting_locale())


def local_title(event) -> str:
    """The event's title in the reader's language (English when not translated)."""
    return event.text_in("title", str(get_locale()))


def local_description(event) -> str:
    return event.text_in("description", str(get_locale()))


_BULLET = re.compile(r"^\s*[-*•]\s+")


def shortened(text: str, limit: int) -> str:
    """The text cut to at most ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def paragraphs(text: str | None) -> Markup:
    """Plain text as HTML blocks: a blank line starts a paragraph, lines that start with
    "- ", "* " or "• " make a list, other line breaks stay line breaks."""
    blocks = []
    for chunk in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").strip()):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        for is_item, group in groupby(lines, key=lambda line: bool(_BULLET.match(line))):
            run = list(group)
            blocks.append(_list(run) if is_item else _paragraph(run))
    return Markup("\n").join(blocks)


def _paragraph(lines: list[str]) -> Markup:
    return Markup("<p>{}</p>").format(Markup("<br>\n").join(lines))


def _list(items: list[str]) -> Markup:
    entries = Markup("").join(Markup("<li>{}</li>").format(_BULLET.sub("", i)) for i in items)
    return Markup("<ul>{}</ul>").format(entries)


def text_lang(event, field: str) -> Markup:
    """A ``lang="en"`` attribute when the event's text falls back to English (WCAG 3.1.2)."""
    language = str(get_locale())
    if event.language_of(field, language) == language:
        return Markup("")
    return Markup(' lang="en"')


def wait_until(moment: datetime, now: datetime) -> str:
    """How long until ``moment`` in the reader's language (``3 hours``, ``25 minutes``),
    rounded up: whoever comes back after it finds the wait over."""
    minutes = max(ceil((moment - now).total_seconds() / 60), 1)
    wait = timedelta(minutes=minutes) if minutes < 60 else timedelta(hours=ceil(minutes / 60))
    return format_timedelta(wait, threshold=1, locale=formatting_locale())


def datetime_in(value: datetime, zone: str) -> str:
    """A moment shown in a given zone, with the zone named in the reader's language."""
    moment = value.astimezone(ZoneInfo(zone))
    return f"{format_datetime(moment, 'medium', locale=formatting_locale())} ({zone_name(moment)})"


STATUS_LABELS = {
    RegistrationStatus.CONFIRMED.value: _l("Confirmed"),
    RegistrationStatus.WAITLISTED.value: _l("Waiting list"),
    RegistrationStatus.CANCELLED.value: _l("Cancelled"),
}

CANCEL_REASON_LABELS = {
    CancelReason.WITHDRAWN.value: _l("Withdrawn"),
    CancelReason.MOVED.value: _l("Moved to another event"),
    CancelReason.ERASED.value: _l("Data erased on request"),
    CancelReason.EVENT_CANCELLED.value: _l("Event called off"),
    None: _l("Reason not recorded"),
}


MESSAGE_KIND_LABELS = {
    MessageKind.CONFIRMATION.value: _l("Confirmation of a seat"),
    MessageKind.WAITLISTED.value: _l("On the waiting list"),
    MessageKind.CANCELLED.value: _l("Registration cancelled"),
    MessageKind.EVENT_CHANGED.value: _l("Event changed"),
    MessageKind.EVENT_CANCELLED.value: _l("Event called off"),
    MessageKind.REMINDER.value: _l("Reminder"),
    MessageKind.ORGANISER_MESSAGE.value: _l("Message from the organisers"),
    MessageKind.PASSWORD_RESET.value: _l("Password reset link"),
    MessageKind.MANAGE_LINK.value: _l("Manage link, sent again"),
    MessageKind.MATERIALS_AVAILABLE.value: _l("Materials available"),
    MessageKind.FEEDBACK_REQUEST.value: _l("Feedback questionnaire"),
    MessageKind.CERTIFICATE.value: _l("Certificate of attendance"),
    MessageKind.NETWORK_CONFIRM.value: _l("Network: confirm joining"),
    MessageKind.NETWORK_SIGN_IN.value: _l("Network: sign-in link"),
    MessageKind.NETWORK_CONTACT.value: _l("Network: a member's message"),
    MessageKind.NETWORK_ANNOUNCEMENT.value: _l("Network: announcement"),
    MessageKind.NETWORK_PRACTICE_PUBLISHED.value: _l("Network: proposed practice published"),
    MessageKind.NETWORK_PRACTICE_REJECTED.value: _l("Network: proposed practice not published"),
    MessageKind.NETWORK_PRACTICE_UNPUBLISHED.value: _l(
        "Network: practice taken out of the library"
    ),
    MessageKind.NETWORK_PRACTICE_REPUBLISHED.value: _l("Network: practice published again"),
    MessageKind.ABUSE_REPORT.value: _l("Network: a member reported"),
}

MESSAGE_STATUS_LABELS = {
    MessageStatus.PENDING.value: _l("Pending"),
    MessageStatus.SENT.value: _l("Sent"),
    MessageStatus.FAILED.value: _l("Failed"),
    MessageStatus.SKIPPED.value: _l("Not sent"),
}

# Why a message was not sent (or not queued again): it had become out of date.
SKIP_REASON_LABELS = {
    SkipReason.EVENT_CANCELLED.value: _l("The event has been called off."),
    SkipReason.EVENT_STARTED.value: _l("The event had already started."),
    SkipReason.EVENT_ENDED.value: _l("The event had already ended."),
    SkipReason.REGISTRATION_CANCELLED.value: _l("The registration has been cancelled."),
    SkipReason.NO_LONGER_CONFIRMED.value: _l("The person no longer has a seat."),
    SkipReason.NO_LONGER_WAITLISTED.value: _l("The person is no longer on the waiting list."),
    SkipReason.MAIL_STOPPED.value: _l("The member stopped the network's e-mails."),
    SkipReason.SENDER_GONE.value: _l("The sender's profile was hidden, or the sender left."),
    SkipReason.PRACTICE_MOVED_ON.value: _l(
        "The practice went into or out of the library again since."
    ),
    SkipReason.REPORT_CLOSED.value: _l("The report had already been decided on or removed."),
    SkipReason.NO_LONGER_ORGANISER.value: _l("The recipient no longer manages the network."),
    SkipReason.CERTIFICATE_WITHDRAWN.value: _l("The certificate is no longer valid."),
    SkipReason.REPLACED.value: _l("A newer e-mail replaced it."),
    SkipReason.CHANGE_UNDONE.value: _l("The change was undone before the e-mail was sent."),
    SkipReason.CONTACT_STOPPED.value: _l(
        "The recipient stopped this member's messages, or all messages, since."
    ),
    SkipReason.FEEDBACK_WITHDRAWN.value: _l(
        "The check-in it asked about was taken back: the questionnaire was withdrawn."
    ),
}

ROLE_LABELS = {
    Role.ORGANISER.value: _l("Organiser"),
    Role.CHECKIN.value: _l("Check-in staff"),
    Role.ADMIN.value: _l("Admin"),
}


def iso_date(value: str) -> str:
    """A date stored as ISO text (in an e-mail's parameters), in the reader's language."""
    return format_date(date.fromisoformat(value), "long", locale=formatting_locale())


def init_app(app: Flask) -> None:
    """Every global and filter the templates (pages and e-mails) use, in one place."""
    from .services import certificates, feedback, topics  # they write e-mails, which use this

    app.jinja_env.add_extension("jinja2.ext.do")
    app.add_template_global(lambda: str(get_locale()), "current_locale")
    app.add_template_global(target_group_choices)
    app.add_template_global(TARGET_GROUP_LABELS, "target_group_labels")
    app.add_template_global(STATUS_LABELS, "status_labels")
    app.add_template_global(CANCEL_REASON_LABELS, "cancel_reason_labels")
    app.add_template_global(MESSAGE_KIND_LABELS, "message_kind_labels")
    app.add_template_global(MESSAGE_STATUS_LABELS, "message_status_labels")
    app.add_template_global(SKIP_REASON_LABELS, "skip_reason_labels")
    app.add_template_global(ROLE_LABELS, "role_labels")
    app.add_template_global(REPORT_REASON_LABELS, "report_reason_labels")
    app.add_template_filter(event_date)
    app.add_template_filter(event_time)
    app.add_template_filter(event_when)
    app.add_template_filter(day_line)
    app.add_template_filter(day_line_html)
    app.add_template_filter(day_date)
    app.add_template_filter(datetime_in)
    app.add_template_filter(local_title)
    app.add_template_filter(local_description)
    app.add_template_filter(text_lang)
    app.add_template_filter(paragraphs)
    app.add_template_filter(zone_name)
    app.add_template_filter(days_zone_name)
    app.add_template_filter(language_name)
    app.add_template_filter(country_name)
    app.add_template_filter(iso_date)
    app.add_template_filter(topics.label, "topic_label")
    app.add_template_global(certificates.is_available, "certificate_available")
    app.add_template_global(feedback.open_link_token, "feedback_token")
    app.add_template_global(lambda event: event.has_ended(utcnow()), "has_ended")
