"""Signed links of the network: confirm joining, sign in once, stop the network's e-mails in
one click, stop the messages of one member."""

from flask import url_for

from ..models import Member
from .signed_links import sign

CONFIRM_PURPOSE = "network-confirm"
SIGN_IN_PURPOSE = "network-sign-in"
# The salt of the links that deleted the profile until they only stopped the e-mails: those
# still in mailboxes (and quoted in replies) now do that, as the new ones do.
UNSUBSCRIBE_PURPOSE = "network-leave"
BLOCK_PURPOSE = "network-block"


def confirm_url(member: Member, next_path: str | None = None) -> str:
    """The confirmation link; ``next_path`` (a path on this site) is where it leads."""
    token = sign(member.key, CONFIRM_PURPOSE)
    return url_for("network.confirm", token=token, next=next_path, _external=True)


def sign_in_url(member: Member, nonce: str, next_path: str | None = None) -> str:
    """The one-time sign-in link; ``next_path`` (a path on this site) is where it leads."""
    token = sign(f"{member.key}:{nonce}", SIGN_IN_PURPOSE)
    return url_for("network.sign_in", token=token, next=next_path, _external=True)


def unsubscribe_url(member: Member) -> str:
    """Stops the network's e-mails to the member: anyone holding it can, so it does no more."""
    token = sign(member.key, UNSUBSCRIBE_PURPOSE)
    return url_for("network.unsubscribe", token=token, _external=True)


def block_url(member: Member, sender_id: int, message_id: int) -> str:
    """For the member who got a message: stop the messages of the member who sent it (the
    message's number tells them from a later member given the same id)."""
    token = sign(f"{member.key}:{sender_id}:{message_id}", BLOCK_PURPOSE)
    return url_for("network.block_sender", token=token, _external=True)
