"""What each e-mail says: subject, text, HTML, invitation and ticket, in the reader's language."""

from dataclasses import dataclass
from email.utils import formataddr

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_mail import Message

from ..models import MessageKind, OutboxMessage
from ..urls import site_context
from . import calendar, tickets
from .join_links import join_url
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
    MessageKind.PASSWORD_RESET: Notice("password_reset", _l("Set a new password for your account")),
}


def build_message(outbox: OutboxMessage, *, reveal_secrets: bool = True) -> Message:
    """Render an outbox entry into a complete e-mail, in the registrant's language.

    ``reveal_secrets=False`` (an organiser reading the outbox) leaves a staff member's one-time
    link out, so that only its recipient can use it.
    """
    if outbox.registration is None:
        return _staff_message(outbox, reveal_secrets)
    registration = outbox.registration
    registrant = registration.registrant
    event = registration.event
    notice = NOTICES[outbox.kind]
    with site_context(), force_locale(registrant.language):
        links = {
            "manage_url": manage_url(registrant),
            "join_url": join_url(registration) if event.is_online else None,
        }
        context = {
            "registration": registration,
            "registrant": registrant,
            "event": event,
            "params": outbox.params,
            "with_ticket": notice.ticket,
            **links,
        }
        subject = subject_of(outbox)
        message = Message(
            subject=subject,
            recipients=[formataddr((_one_line(registrant.full_name), outbox.recipient))],
            body=render_template(f"email/{notice.template}.txt", **context),
            html=render_template(f"email/{notice.template}.html", **context),
            sender=current_app.config["MAIL_DEFAULT_SENDER"],
        )
        message.msgId = outbox.message_id
        if notice.calendar_method and "sequence" in outbox.params:
            _attach_invitation(message, outbox, notice.calendar_method, links)
        if notice.ticket and registration.is_confirmed and not event.is_online:
            _attach_ticket(message, registration)
    return message


def _staff_message(outbox: OutboxMessage, reveal_secrets: bool) -> Message:
    """An e-mail to a staff account (a password reset link), in the site's default language."""
    notice = NOTICES[outbox.kind]
    with site_context():
        link = (
            url_for("auth.reset_password", token=password_reset_token(outbox.user), _external=True)
            if reveal_secrets
            else None
        )
        context = {"user": outbox.user, "reset_url": link, "params": outbox.params}
        message = Message(
            subject=subject_of(outbox),
            recipients=[outbox.recipient],
            body=render_template(f"email/{notice.template}.txt", **context),
            html=render_template(f"email/{notice.template}.html", **context),
            sender=current_app.config["MAIL_DEFAULT_SENDER"],
        )
        message.msgId = outbox.message_id
    return message


def subject_of(outbox: OutboxMessage) -> str:
    """The message's subject line as the registrant reads it, in their language."""
    notice = NOTICES[outbox.kind]
    if outbox.registration is None:
        return str(notice.subject)
    registrant = outbox.registration.registrant
    with force_locale(registrant.language):
        if not notice.subject:
            return _one_line(outbox.params["subject"])
        title = outbox.registration.event.text_in("title", registrant.language)
        return _one_line(str(notice.subject % {"title": title}))


def _one_line(text: str) -> str:
    """Headers never carry line breaks, whatever reached the database."""
    return " ".join(text.split())


def _attach_invitation(message: Message, outbox: OutboxMessage, method: str, links) -> None:
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


def _attach_ticket(message: Message, registration) -> None:
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
