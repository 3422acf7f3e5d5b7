"""Signed links of the network: confirm joining, sign in once, leave in one click."""

from flask import url_for

from ..models import Member
from .signed_links import sign

CONFIRM_PURPOSE = "network-confirm"
SIGN_IN_PURPOSE = "network-sign-in"
LEAVE_PURPOSE = "network-leave"


def confirm_url(member: Member) -> str:
    return url_for("network.confirm", token=sign(member.key, CONFIRM_PURPOSE), _external=True)


def sign_in_url(member: Member, nonce: str) -> str:
    token = sign(f"{member.key}:{nonce}", SIGN_IN_PURPOSE)
    return url_for("network.sign_in", token=token, _external=True)


def leave_url(member: Member) -> str:
    return url_for("network.leave", token=sign(member.key, LEAVE_PURPOSE), _external=True)
