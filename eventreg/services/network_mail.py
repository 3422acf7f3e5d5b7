"""E-mails of the network of practice: queued for a member, sent with one-click unsubscribe."""

from email.message import EmailMessage
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..models import Member, MessageKind, OutboxMessage
from ..urls import site_context
from . import outbox  # a module: outbox builds messages through this one
from .mail_message import MailMessage, address
from .network_links import block_url, confirm_url, sign_in_url, unsubscribe_url

SUBJECTS = {
    MessageKind.NETWORK_CONFIRM: _l("Please confirm that you are joining the network of practice"),
    MessageKind.NETWORK_SIGN_IN: _l("Your sign-in link for the network of practice"),
    MessageKind.NETWORK_CONTACT: _l("%(name)s wrote to you through the network of practice"),
    MessageKind.NETWORK_PRACTICE_PUBLISHED: _l("Your practice is now in the library of practices"),
    MessageKind.NETWORK_PRACTICE_REJECTED: _l("Your proposed practice has not been published"),
    MessageKind.NETWORK_PRACTICE_UNPUBLISHED: _l(
        "Your practice has been taken out of the library of practices"
    ),
    MessageKind.NETWORK_PRACTICE_REPUBLISHED: _l(
        "Your practice is back in the library of practices"
    ),
}


class ListMessage(MailMessage):
    """A network e-mail: it names the one-click way out of the list (RFC 2369 and RFC 8058)."""

    def __init__(self, *, unsubscribe_url: str, **kwargs):
        super().__init__(**kwargs)
        self.unsubscribe_url = unsubscribe_url

    def _message(self) -> EmailMessage:
        message = super()._message()
        message["List-Unsubscribe"] = f"<{self.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return message


def enqueue_for_member(kind: MessageKind, member: Member, **params: Any) -> None:
    """Add a network e-mail for a member to the outbox in the current transaction."""
    outbox.add_message(kind, member.email, params, member=member)


def build_message(queued: OutboxMessage) -> MailMessage:
    """Render a network e-mail in the member's language, with the unsubscribe headers."""
    member = queued.member
    params = queued.params
    with site_context(), force_locale(member.language):
        links = {"unsubscribe_url": unsubscribe_url(member)}
        if queued.kind is MessageKind.NETWORK_CONFIRM:
            links["confirm_url"] = confirm_url(member, params.get("next"))
        if queued.kind is MessageKind.NETWORK_SIGN_IN:
            links["sign_in_url"] = sign_in_url(member, params["nonce"], params.get("next"))
        if queued.kind is MessageKind.NETWORK_CONTACT and "sender_id" in params:
            links["block_url"] = block_url(member, params["sender_id"], queued.id)
            links["report_url"] = url_for(
                "network.report",
                member_id=params["sender_id"],
                message=queued.id,
                _external=True,
            )
        if queued.kind in (
            MessageKind.NETWORK_PRACTICE_PUBLISHED,
            MessageKind.NETWORK_PRACTICE_REPUBLISHED,
        ):
            links["practice_url"] = url_for(
                "practices.show", practice_id=params["practice_id"], _external=True
            )
        context = {"member": member, "params": params, **links}
        if queued.kind is MessageKind.NETWORK_ANNOUNCEMENT:
            subject = params["subject"]
        else:
            subject = str(SUBJECTS[queued.kind] % {"name": params.get("sender_name", "")})
        template = f"email/{queued.kind.value}"
        message = ListMessage(
            subject=_one_line(subject),
            to=address(queued.recipient, name=_one_line(member.name)),
            body=render_template(f"{template}.txt", **context),
            html=render_template(f"{template}.html", **context),
            sender=current_app.config["MAIL_DEFAULT_SENDER"],
            reply_to=_reply_to(params),
            unsubscribe_url=links["unsubscribe_url"],
        )
        message.msgId = queued.message_id
    return message


def _reply_to(params: dict[str, Any]) -> str | None:
    if "sender_email" not in params:
        return None
    return str(address(params["sender_email"], name=_one_line(params["sender_name"])))


def _one_line(text: str) -> str:
    return " ".join(text.split())
