"""Who may do what: loading staff from the session or a bearer token, and role checks.

Shared by every blueprint; ``init_app`` gives Flask-Login its loaders.
"""

import time
from functools import wraps

from flask import (
    Flask,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user

from .extensions import db, login_manager
from .lookups import event_or_404
from .models import Event, Member, Role, User
from .services.accounts import user_for_api_token

# When the session was last used (seconds since the epoch), for the idle expiry.
_SEEN = "seen_at"
# Refreshed at most this often, so the cookie is not rewritten on every request.
_SEEN_RESOLUTION = 60


def init_app(app: Flask) -> None:
    """Log staff in from the session cookie or a bearer token; send the rest to the login."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_user_from_bearer_token)
    login_manager.unauthorized_handler(unauthorized)


def load_user(user_id: str) -> User | None:
    """The session's account while the session is current: same version, not idle too long."""
    number, _, version = user_id.partition(".")
    if not (number.isdigit() and version.isdigit()) or _is_idle():
        return None
    user = db.session.get(User, int(number))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    if time.time() - session[_SEEN] >= _SEEN_RESOLUTION:
        session[_SEEN] = int(time.time())
    return user


def start_session(user: User) -> None:
    """Log the user in to this browser and start the idle clock."""
    login_user(user)
    session[_SEEN] = int(time.time())


def _is_idle() -> bool:
    seen = session.get(_SEEN)
    idle_limit = current_app.config["SESSION_IDLE_MINUTES"] * 60
    return not isinstance(seen, int) or time.time() - seen > idle_limit


def load_user_from_bearer_token(req) -> User | None:
    """API clients send ``Authorization: Bearer <token>`` instead of a session cookie."""
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return user_for_api_token(token.strip())


def unauthorized():
    """Send people to the login page; API clients get 401."""
    if request.blueprint == "api" or request.authorization is not None:
        abort(401)
    return redirect(url_for("auth.login", next=request.path))


def roles_required(*roles: Role):
    """Let in only logged-in staff with one of the roles; others get 401 or 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


organiser_required = roles_required(Role.ADMIN, Role.ORGANISER)
admin_required = roles_required(Role.ADMIN)


def door_event(slug: str) -> Event:
    """The event whose door the logged-in staff member keeps: 404 unknown, 403 not theirs."""
    event = event_or_404(slug)
    if not current_user.can_check_in_at(event):
        abort(403, description="You are not check-in staff of this event.")
    return event


def unless_hidden(member: Member | None) -> Member | None:
    """The signed-in network member, unless the organisers hid their profile: then a page that
    says so (403), for the members' pages they cannot use (directory, writing, proposing)."""
    if member is not None and member.is_hidden:
        abort(make_response(render_template("network/hidden.html"), 403))
    return member
