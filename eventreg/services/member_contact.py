"""Members writing to each other through the service: the address stays hidden, Reply-To not."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ..database import locking, write_transaction
from ..extensions import db
from ..models import ContactRequest, Member, MessageKind, utcnow
from .network_mail import enqueue_for_member


class ContactRefused(Exception):
    """The message was not sent; ``reason`` says why (blocked, not a member, too many)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def send(sender: Member, recipient: Member, text: str) -> None:
    """Queue a member's message to another member, within the sender's daily limit."""
    sender_id, recipient_id = sender.id, recipient.id
    with write_transaction():
        sender = _locked(sender_id)
        recipient = db.session.get(Member, recipient_id)
        if sender is None or not sender.is_active:
            raise ContactRefused("not_member")
        if recipient is None or not recipient.is_active or recipient.id == sender.id:
            raise ContactRefused("not_member")
        if not recipient.accepts_contact:
            raise ContactRefused("blocked")
        if sent_today(sender) >= current_app.config["NETWORK_CONTACT_PER_DAY"]:
            raise ContactRefused("limit")
        db.session.add(ContactRequest(sender_id=sender.id, recipient_id=recipient.id))
        enqueue_for_member(
            MessageKind.NETWORK_CONTACT,
            recipient,
            sender_name=sender.name,
            sender_organisation=sender.organisation,
            sender_email=sender.email,
            text=text,
        )


def sent_today(sender: Member) -> int:
    """How many messages the member sent in the last 24 hours."""
    since = utcnow() - timedelta(days=1)
    return db.session.scalar(
        select(func.count())
        .select_from(ContactRequest)
        .where(ContactRequest.sender_id == sender.id, ContactRequest.created_at > since)
    )


def _locked(member_id: int) -> Member | None:
    # The sender's row is the lock that makes two simultaneous messages count one after another.
    return db.session.scalar(locking(select(Member).where(Member.id == member_id)))
