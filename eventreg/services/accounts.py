"""Staff accounts and API tokens."""

import secrets
from functools import cache

from sqlalchemy import bindparam, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..addresses import canonical
from ..database import lock, locking, write_transaction
from ..extensions import db
from ..models import ApiToken, MessageKind, Role, User, utcnow
from ..models.user import hash_token
from .outbox import enqueue_to_staff
from .reset_links import reset_user_id, user_for_reset_token

MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """An account operation the rules refuse."""


class EmailTaken(AccountError):
    """Another staff account already has this e-mail address."""


class PasswordTooShort(AccountError):
    """The password is shorter than MIN_PASSWORD_LENGTH."""


class WrongPassword(AccountError):
    """The current password given does not match."""


class InvalidResetLink(AccountError):
    """The reset link is forged, expired, already used, or for a deactivated account."""


def create_user(email: str, role: Role | str, password: str) -> User:
    """Create a staff account with a hashed password."""
    email = canonical(email)
    role = Role(role)
    if db.session.scalar(select(User).where(User.email == email)):
        raise EmailTaken(f"an account for {email} already exists")
    check_new_password(password)
    user = User(email=email, role=role)
    user.set_password(password)
    with write_transaction():
        db.session.add(user)
    return user


def check_new_password(password: str) -> None:
    """Refuse a password too short to be safe."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def set_password(user: User, password: str, *, reset_token: str | None = None) -> None:
    """Give the account a new password and end its sessions: the one place a password changes.

    With ``reset_token`` the token is checked on the locked row, so a link works only once.
    """
    check_new_password(password)
    with write_transaction():
        locked = db.session.scalars(
            select(User)
            .where(User.id == user.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if reset_token is not None and reset_user_id(reset_token, locked) != locked.id:
            raise InvalidResetLink()
        locked.set_password(password)
        end_all_sessions(locked)  # a new password logs every browser out


def send_password_reset(user: User) -> None:
    """Queue an e-mail with a one-time link, valid PASSWORD_RESET_HOURS, to set a new password."""
    with write_transaction():
        enqueue_to_staff(MessageKind.PASSWORD_RESET, user)


def reset_password(token: str, password: str) -> None:
    """Set a new password through a reset link; the link stops working at once."""
    user = user_for_reset_token(token)
    if user is None:
        raise InvalidResetLink()
    set_password(user, password, reset_token=token)


def change_own_password(user: User, current: str, new: str) -> None:
    """A staff member replaces their password, proving they know the current one."""
    if not user.check_password(current):
        raise WrongPassword()
    set_password(user, new)


def assign_checkin_events(user: User, events: list) -> None:
    """Set the events a check-in staff member may check people in at."""
    with write_transaction():
        user.checkin_events = list(events)


def change_checkin_events(user: User, *, added: list, removed: list) -> None:
    """Add and take away events a check-in staff member works at, leaving the others as they
    are now (another admin may have assigned one since this admin's page was read)."""
    with write_transaction():
        user = lock(user)
        db.session.expire(user, ["checkin_events"])  # as they are now, not as the page read them
        kept = [event for event in user.checkin_events if event not in removed]
        user.checkin_events = kept + [event for event in added if event not in kept]


class NoLongerAdmin(Exception):
    """The acting admin was demoted or deactivated meanwhile (by another admin): refused."""


def change_role(user: User, role: Role | str, *, actor: User | None = None) -> None:
    """Give a staff account another role; it holds from the account's next request.
    ``actor``: the admin doing it, who must still be one (``_still_admin``)."""
    with write_transaction():
        _still_admin(actor)
        lock(user).role = Role(role)


def reactivate(user: User) -> None:
    """Let a deactivated account log in again. Nothing of before comes back with it: its
    sessions end and its API tokens are revoked (an admin can send it a reset link)."""
    with write_transaction():  # all of it or nothing: never active with its old tokens
        locked = lock(user)
        locked.is_active = True
        locked.session_version += 1
        revoke_api_tokens(locked)


def deactivate(user: User, *, actor: User | None = None) -> None:
    """Stop the account from logging in and from using its API tokens. ``actor``: the admin
    doing it, who must still be one (``_still_admin``)."""
    with write_transaction():
        _still_admin(actor)
        lock(user).is_active = False


def _still_admin(actor: User | None) -> None:
    """Lock the active admins' rows, then check that ``actor`` is still one of them: two admins
    demoting or deactivating each other at once would leave none (the second now waits, then
    finds itself removed). Without an actor (the command line), nothing to check."""
    if actor is None:
        return
    admins = db.session.scalars(
        locking(select(User.id).where(User.role == Role.ADMIN, User.is_active).order_by(User.id))
    ).all()
    if actor.id not in admins:
        raise NoLongerAdmin()


def end_all_sessions(user: User) -> None:
    """End every session of the account, in every browser (logout, password change or reset)."""
    with write_transaction():
        lock(user).session_version += 1


def remember_language(user: User, language: str) -> None:
    """Keep the language the staff member uses the site in, for the e-mails sent to them."""
    if user.language != language:
        with write_transaction():
            lock(user).language = language


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == canonical(email)))


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
    return db.session.scalar(_USER_BY_TOKEN, {"token_hash": hash_token(token)})


# Run on every API request, so built once (composing it cost more than running it); revocation
# and deactivation are decided in the same statement, on every request.
_USER_BY_TOKEN = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
    .where(ApiToken.revoked_at.is_(None), User.is_active)
)
