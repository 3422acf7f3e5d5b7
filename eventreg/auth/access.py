"""Who may do what: loading staff from the session or a bearer token, and role checks."""

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from ..extensions import db, login_manager
from ..models import Role, User
from ..services.accounts import user_for_api_token


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


@login_manager.request_loader
def load_user_from_bearer_token(req) -> User | None:
    """API clients send ``Authorization: Bearer <token>`` instead of a session cookie."""
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return user_for_api_token(token.strip())


@login_manager.unauthorized_handler
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
