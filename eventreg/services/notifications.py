"""What each e-mail says: subject, text, HTML, invitation and ticket, in the reader's language."""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..formatting import event_date, event_when, general_zone_name, span_when
from ..models import Certificate, Event, EventMode, MessageKind, OutboxMessage
from ..urls import site_context
from . import calendar, network_mail, tickets
from .certificate_pdf import certificate_filename, certificate_pdf
from .contact import reply_address
from .join_links import join_url
from .mail_message import MailMessage, address
from .manage_links import manage_url
from .reset_links import password_reset_token


@dataclass(frozen=True)
class Notice:
    template: str
    subject: str | None
    calendar_method: str | None = None
    ticket: bool = False


NOTICES = {
    MessageKind.CONFIRMATION: Notice(
        "confirmation", _l("Your place at %(title)s"), "REQUEST", ticket=True
    ),
    MessageKind.WAITLISTED: Notice("waitlisted", _l("You are on the waiting list for %(title)s")),
    MessageKind.CANCELLED: Notice("cancelled", _l("Cancelled: %(title)s"), "CANCEL"),
    MessageKind.EVENT_CHANGED: Notice(
        "event_changed", _l("Changed: %(title)s"), "REQUEST", ticket=True
    ),
    MessageKind.EVENT_CANCELLED: Notice("event_cancelled", _l("Called off: %(title)s"), "CANCEL"),
    MessageKind.REMINDER: Notice("reminder", _l("Reminder: %(title)s"), ticket=True),
    MessageKind.ORGANISER_MESSAGE: Notice("organiser_message", None),
    MessageKind.MANAGE_LINK: Notice("manage_link", _l("Your link to manage your registration")),
    MessageKind.PASSWORD_RESET: Notice("password_reset", _l("Set a new password for your account")),
    MessageKind.MATERIALS_AVAILABLE: Notice(
        "materials_available", _l("Materials from %(title)s are available")
    ),
    MessageKind.FEEDBACK_REQUEST: Notice("feedback_request", _l("Your feedback on %(title)s")),
    MessageKind.CERTIFICATE: Notice("certificate", _l("Your certificate of attendance: %(title)s")),
    MessageKind.ABUSE_REPORT: Notice(
        "abuse_report", _l("A member has been reported in the network of practice")
    ),
}


def build_message(outbox: OutboxMessage, *, reveal_secrets: bool = True) -> MailMessage:
    """Render an outbox entry into a complete e-mail, in the registrant's language.

    ``reveal_secrets=False`` (an organiser reading the outbox) leaves a staff member's one-time
    link out, so that only its recipient can use it.
    """
    if outbox.kind.is_network:
        return network_mail.build_message(outbox)
    if outbox.user_id is not None:
        return _staff_message(outbox, reveal_secrets)
    registration = outbox.registration
    registrant = registration.registrant
    event = registration.event
    notice = NOTICES[outbox.kind]
    with site_context(), force_locale(registrant.language):
        links = {
            "manage_url": manage_url(registrant),
            "join_url": join_url(registration) if event.is_online else None,
            "materials_url": url_for("public.materials_list", slug=event.slug, _external=True),
        }
        context = {
            "registration": registration,
            "registrant": registrant,
            "event": event,
            "params": outbox.params,
            "with_ticket": notice.ticket,
            "changes": _changes(outbox.params, event),
            **links,
        }
        message = MailMessage(
            subject=subject_of(outbox),
            to=address(outbox.recipient, name=_one_line(registrant.full_name)),
            reply_to=reply_address(event),
            body=render_template(f"email/{notice.template}.txt", **context),
            html=render_template(f"email/{notice.template}.html", **context),
            sender=current_app.config["MAIL_DEFAULT_SENDER"],
        )
        message.msgId = outbox.message_id
        if notice.calendar_method and "sequence" in outbox.params:
            _attach_invitation(message, outbox, notice.calendar_method, links)
        if notice.ticket and registration.is_confirmed and not event.is_online:
            _attach_ticket(message, registration)
        if outbox.kind is MessageKind.CERTIFICATE:
            _attach_certificate(message, registration)
    return message


def _staff_message(outbox: OutboxMessage, reveal_secrets: bool) -> MailMessage:
    """An e-mail to a staff account (a password reset link, a member reported), in the
    language the staff member last used the site in."""
    notice = NOTICES[outbox.kind]
    language = outbox.user.language or current_app.config["BABEL_DEFAULT_LOCALE"]
    with site_context(), force_locale(language):
        link = (
            url_for("auth.reset_password", token=password_reset_token(outbox.user), _external=True)
            if reveal_secrets and outbox.kind is MessageKind.PASSWORD_RESET
            else None
        )
        context = {
            "user": outbox.user,
            "reset_url": link,
            "reports_url": url_for("network.reports", _external=True),
            "params": outbox.params,
        }
        message = MailMessage(
            subject=subject_of(outbox),
            to=address(outbox.recipient),
            body=render_template(f"email/{notice.template}.txt", **context),
            html=render_template(f"email/{notice.template}.html", **context),
            sender=current_app.config["MAIL_DEFAULT_SENDER"],
        )
        message.msgId = outbox.message_id
    return message


def subject_of(outbox: OutboxMessage) -> str:
    """The message's subject line as its reader sees it, in their language."""
    notice = NOTICES[outbox.kind]
    if outbox.registration is None:
        return str(notice.subject)
    registrant = outbox.registration.registrant
    with force_locale(registrant.language):
        if not notice.subject:
            return _one_line(outbox.params["subject"])
        title = outbox.registration.event.text_in("title", registrant.language)
        return _one_line(str(notice.subject % {"title": title}))


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None: nothing to show (a meeting link is never shown in the clear)
    after: str | None


def _changes(params: dict, event: Event) -> list[Change]:
    """What an "event changed" e-mail reports, old → new, in the language being rendered."""
    previous = params.get("previous")
    if not previous:
        return []
    before = Event(
        starts_at=datetime.fromisoformat(previous["starts_at"]),
        ends_at=datetime.fromisoformat(previous["ends_at"]),
        timezone=previous["timezone"],
        mode=EventMode(previous["mode"]),
        city=previous["city"],
        venue=previous["venue"],
    )
    found = []
    if "time" in params["changed"] and "days" in previous and (previous["days"] or event.days):
        found += _day_changes(before, previous["days"], event)
        # The days' lines give their hours without the zone.
        zones = (general_zone_name(before.zone), general_zone_name(event.zone))
        if zones[0] != zones[1]:
            found.append(Change(str(_l("Time zone")), *zones))
    elif "time" in params["changed"]:
        # A multi-day event's first start and last end are no one day's hours: its dates only.
        was = event_date(before) if previous.get("multi_day") else event_when(before)
        found.append(Change(str(_l("When")), was, event_when(event)))
    if "place" in params["changed"]:
        found.append(Change(str(_l("Where")), calendar.place(before), calendar.place(event)))
    if "link" in params["changed"]:
        found.append(Change(str(_l("The meeting link has changed")), None, None))
    return found


def _day_changes(before: Event, days: list[list[str]], event: Event) -> list[Change]:
    """A multi-day event's new dates; on the same dates, each day whose hours changed, came
    or went (an event on one day counts as that day)."""
    old_days = [
        (datetime.fromisoformat(start).astimezone(before.zone), datetime.fromisoformat(end))
        for start, end in days
    ] or [(before.local_starts_at, before.local_ends_at)]
    new_days = [(day.local_starts_at, day.local_ends_at) for day in event.days] or [
        (event.local_starts_at, event.local_ends_at)
    ]
    if event_date(before) != event_date(event):  # moved: the new days follow in the details
        return [Change(str(_l("When")), event_date(before), event_date(event))]
    found = []
    old = {start.date(): span_when(start, end.astimezone(before.zone)) for start, end in old_days}
    new = {start.date(): span_when(start, end) for start, end in new_days}
    for date in sorted(old.keys() | new.keys()):
        if old.get(date) != new.get(date):
            was = old.get(date) or str(_l("not on the agenda before"))
            now = new.get(date) or str(_l("no longer on the agenda"))
            found.append(Change(str(_l("Day")), was, now))
    return found


def _one_line(text: str) -> str:
    """Headers never carry line breaks, whatever reached the database."""
    return " ".join(text.split())


def _attach_invitation(message: MailMessage, outbox: OutboxMessage, method: str, links) -> None:
    data = calendar.invitation(
        outbox.registration,
        method=method,
        sequence=outbox.params["sequence"],
        join_url=links["join_url"],
        manage_url=links["manage_url"],
    )
    filename = "cancel.ics" if method == "CANCEL" else "invite.ics"
    # The method parameter on the MIME type is what makes Outlook offer "Accept"/"Remove".
    message.attach(filename, f"text/calendar; method={method}; charset=UTF-8", data)


def _attach_certificate(message: MailMessage, registration) -> None:
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.registration_id == registration.id)
    )
    filename = certificate_filename(certificate)
    message.attach(filename, "application/pdf", certificate_pdf(certificate))


def _attach_ticket(message: MailMessage, registration) -> None:
    message.attach(
        "qr.png",
        "image/png",
        tickets.qr_png(registration.ticket_secret),
        disposition="inline",
        headers={"Content-ID": "<qr>"},
    )
    message.attach(
        f"ticket-{registration.reference}.png", "image/png", tickets.ticket_png(registration)
    )
