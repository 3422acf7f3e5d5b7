"""Members writing to each other through the service (the address stays hidden, Reply-To not),
and stopping the messages of one member they no longer want to hear from."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, func, select

from ..database import locking, write_transaction
from ..extensions import db
from ..models import ContactBlock, ContactRequest, Member, MessageKind, OutboxMessage, utcnow
from .network_links import BLOCK_PURPOSE
from .network_mail import enqueue_for_member
from .signed_links import unsign


class ContactRefused(Exception):
    """The message was not sent; ``reason`` says why (blocked, not a member, too many);
    ``until``: with too many, when the sender may write again."""

    def __init__(self, reason: str, until: datetime | None = None):
        super().__init__(reason)
        self.reason = reason
        self.until = until


def send(sender: Member, recipient: Member, text: str) -> None:
    """Queue a member's message to another member, within the sender's daily limit."""
    sender_id, recipient_id = sender.id, recipient.id
    with write_transaction():
        sender, recipient = _locked_pair(sender_id, recipient_id)
        if sender is None or not sender.is_active:
            raise ContactRefused("not_member")
        if recipient is None or not recipient.is_active or recipient.id == sender.id:
            raise ContactRefused("not_member")
        if not accepts_messages(recipient, sender):
            raise ContactRefused("blocked")
        if sent_today(sender) >= current_app.config["NETWORK_CONTACT_PER_DAY"]:
            raise ContactRefused("limit", until=_next_allowed(sender))
        db.session.add(ContactRequest(sender_id=sender.id, recipient_id=recipient.id))
        enqueue_for_member(
            MessageKind.NETWORK_CONTACT,
            recipient,
            sender_id=sender.id,
            sender_name=sender.name,
            sender_organisation=sender.organisation,
            sender_email=sender.email,
            text=text,
        )


def accepts_messages(recipient: Member, sender: Member) -> bool:
    """Whether the recipient takes messages at all, and from this sender."""
    return recipient.accepts_messages and not _block_of(recipient.id, sender.id)


def has_blocked(member: Member, other: Member) -> bool:
    """Whether the member stopped the other's messages."""
    return _block_of(member.id, other.id) is not None


def block(member: Member, other_id: int, *, by_their_message: bool = False) -> Member | None:
    """Take no more messages from another member; the member blocked, or None if none.

    Only a member one can see (in the directory): else the answer would name hidden and
    unconfirmed members to whoever tried their numbers. ``by_their_message``: the link in a
    message they sent, which named them already."""
    member_id = member.id
    with write_transaction():
        member, other = _locked_pair(member_id, other_id)
        if member is None or other is None or other.id == member.id:
            return None
        if not (other.is_active or (by_their_message and not other.is_pending)):
            return None
        if _block_of(member.id, other.id) is None:
            db.session.add(ContactBlock(member_id=member.id, blocked_id=other.id))
    return other


def unblock(member: Member, other_id: int) -> Member | None:
    """Take messages from a blocked member again; the member, or None if they were not."""
    with write_transaction():
        _locked(member.id)  # two clicks at once: the second finds nothing left to delete
        found = _block_of(member.id, other_id)
        if found is None:
            return None
        other = found.blocked
        db.session.delete(found)
    return other


def block_link_members(token: str) -> tuple[Member, Member] | None:
    """Whom the "no more messages from" link in a message belongs to, and whom it would block;
    None for a forged link or when either has left the network."""
    value = unsign(token, BLOCK_PURPOSE)
    if value is None or ":" not in value:
        return None
    key, other_id, *message_id = value.split(":")
    member = db.session.scalar(select(Member).where(Member.key == key))
    other = db.session.get(Member, int(other_id)) if other_id.isdigit() else None
    if member is None or other is None:
        return None
    if message_id:  # links from before lack it
        copy = db.session.get(OutboxMessage, int(message_id[0]))
        if copy is None or copy.member_id != member.id or not copy.written_by(other):
            return None
    return member, other


def blocked_members(member: Member) -> list[Member]:
    """The members this one blocked, by name."""
    return db.session.scalars(
        select(Member)
        .join(ContactBlock, ContactBlock.blocked_id == Member.id)
        .where(ContactBlock.member_id == member.id)
        .order_by(Member.name, Member.id)
    ).all()


def sent_today(sender: Member) -> int:
    """How many messages the member sent in the last 24 hours."""
    return db.session.scalar(_sent_in_a_day(sender, func.count()))


def _next_allowed(sender: Member) -> datetime:
    """When the limit lets the sender write again. It counts the last 24 hours: once the
    newest message the limit allows has left them, one more may go."""
    allowed = current_app.config["NETWORK_CONTACT_PER_DAY"]
    newest_first = _sent_in_a_day(sender, ContactRequest.created_at).order_by(
        ContactRequest.created_at.desc()
    )
    sent = db.session.scalar(newest_first.offset(max(allowed - 1, 0)).limit(1))
    return (sent or utcnow()) + timedelta(days=1)


def _sent_in_a_day(sender: Member, column) -> Select:
    since = utcnow() - timedelta(days=1)
    return select(column).where(
        ContactRequest.sender_id == sender.id, ContactRequest.created_at > since
    )


def _locked(member_id: int) -> Member | None:
    return db.session.scalar(locking(select(Member).where(Member.id == member_id)))


def _locked_pair(member_id: int, other_id: int) -> tuple[Member | None, Member | None]:
    """Both members as they are now, locked in id order (two members writing to, or blocking,
    each other at once never wait for each other in a circle). The writer's row makes two
    simultaneous messages count one after another; the other's keeps them from being hidden
    or leaving until the message or block is written."""
    query = locking(select(Member).where(Member.id.in_({member_id, other_id})))
    found = {member.id: member for member in db.session.scalars(query.order_by(Member.id))}
    return found.get(member_id), found.get(other_id)


def _block_of(member_id: int, other_id: int) -> ContactBlock | None:
    return db.session.scalar(
        select(ContactBlock).where(
            ContactBlock.member_id == member_id, ContactBlock.blocked_id == other_id
        )
    )
