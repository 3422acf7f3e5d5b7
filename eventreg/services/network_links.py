"""Signed links of the network: confirm joining, sign in once, leave in one click, stop the
messages of one member."""

from flask import url_for

from ..models import Member
from .signed_links import sign

CONFIRM_PURPOSE = "network-confirm"
SIGN_IN_PURPOSE = "network-sign-in"
LEAVE_PURPOSE = "network-leave"
BLOCK_PURPOSE = "network-block"


def confirm_url(member: Member) -> str:
    return url_for("network.confirm", token=sign(member.key, CONFIRM_PURPOSE), _external=True)


def sign_in_url(member: Member, nonce: str) -> str:
    token = sign(f"{member.key}:{nonce}", SIGN_IN_PURPOSE)
    return url_for("network.sign_in", token=token, _external=True)


def leave_url(member: Member) -> str:
    return url_for("network.leave", token=sign(member.key, LEAVE_PURPOSE), _external=True)


def block_url(member: Member, sender_id: int) -> str:
    """For the member who got a message: stop the messages of the member who sent it."""
    token = sign(f"{member.key}:{sender_id}", BLOCK_PURPOSE)
    return url_for("network.block_sender", token=token, _external=True)
