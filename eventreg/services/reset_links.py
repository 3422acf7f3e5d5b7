"""One-time links for staff to set a new password: signed, timed, bound to the current one
and to the account's sessions."""

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..extensions import db
from ..models import User


def password_reset_token(user: User) -> str:
    """A signed, timed link token bound to the current password: using it spends it."""
    return _reset_serializer().dumps([user.id, _password_stamp(user)])


def user_for_reset_token(token: str) -> User | None:
    """The active account a valid, unspent, unexpired reset token belongs to, or None."""
    try:
        user_id, _stamp = _reset_serializer().loads(token, max_age=_reset_max_age())
    except (BadSignature, ValueError, TypeError):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    return user if user is not None and reset_user_id(token, user) == user.id else None


def reset_user_id(token: str, user: User) -> int | None:
    """The account id in a valid token, when it still matches ``user``'s current password."""
    try:
        user_id, stamp = _reset_serializer().loads(token, max_age=_reset_max_age())
    except (BadSignature, ValueError, TypeError):
        return None
    if not user.is_active or not hmac.compare_digest(str(stamp), _password_stamp(user)):
        return None
    return user_id


def _password_stamp(user: User) -> str:
    """The password as it is, and the account's sessions: a link dies with a new password, and
    with every session ended (a deactivation and reactivation, a sign-out everywhere), so
    nothing sent before comes back with a reactivated account."""
    state = f"{user.password_hash}|{user.session_version}"
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _reset_max_age() -> int:
    return int(current_app.config["PASSWORD_RESET_HOURS"] * 3600)
