"""Staff accounts and API tokens."""

import secrets
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import lock, write_transaction
from ..extensions import db
from ..models import ApiToken, Role, User, utcnow
from ..models.user import hash_token


class AccountError(ValueError):
    """An account operation the rules refuse."""


def create_user(email: str, role: Role | str, password: str) -> User:
    """Create a staff account with a hashed password."""
    email = email.strip().lower()
    role = Role(role)
    if db.session.scalar(select(User).where(User.email == email)):
        raise AccountError(f"an account for {email} already exists")
    if len(password) < 10:
        raise AccountError("the password must have at least 10 characters")
    user = User(email=email, role=role)
    user.set_password(password)
    with write_transaction():
        db.session.add(user)
    return user


def assign_checkin_events(user: User, events: list) -> None:
    """Set the events a check-in staff member may check people in at."""
    with write_transaction():
        user.checkin_events = list(events)


def deactivate(user: User) -> None:
    """Stop the account from logging in and from using its API tokens."""
    with write_transaction():
        user.is_active = False


def end_all_sessions(user: User) -> None:
    """End every session of the account, in every browser (logout, password change or reset)."""
    with write_transaction():
        lock(user).session_version += 1


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def has_staff_account() -> bool:
    """Whether anyone can log in to the organiser area yet."""
    return db.session.scalar(select(User.id).limit(1)) is not None


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None; as slow for unknown addresses."""
    user = find_user(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)  # no timing difference to probe with
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


@cache
def _dummy_hash() -> str:
    """A hash of the same kind as real ones, made once per process."""
    return generate_password_hash(secrets.token_urlsafe(16))


def issue_api_token(user: User) -> str:
    """Create an API token for the user; only its hash is stored, so show it once."""
    token = "ert_" + secrets.token_urlsafe(32)
    with write_transaction():
        db.session.add(ApiToken(user=user, token_hash=hash_token(token)))
    return token


def revoke_api_tokens(user: User) -> int:
    """Revoke every live token of the user; return how many."""
    with write_transaction():
        live = [token for token in user.tokens if not token.is_revoked]
        for token in live:
            token.revoked_at = utcnow()
    return len(live)


def user_for_api_token(token: str) -> User | None:
    """The active user a bearer token belongs to, or None for unknown or revoked tokens."""
    api_token = db.session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == hash_token(token))
        .options(joinedload(ApiToken.user, innerjoin=True))
    )
    if api_token is None or api_token.is_revoked or not api_token.user.is_active:
        return None
    return api_token.user
