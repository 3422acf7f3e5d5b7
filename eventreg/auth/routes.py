"""Logging staff in and out."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..access import start_session
from ..forms import form_page
from ..rate_limits import login_limit
from ..services import accounts
from ..services.accounts import authenticate, end_all_sessions
from ..urls import local_path
from .forms import ChangePasswordForm, LoginForm, PasswordForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None, user) -> str:
    """Only follow ``next`` to a path on this site; otherwise the user's own start page."""
    return local_path(target) or _start_page(user)


def _start_page(user) -> str:
    """Organisers start in the organiser area, check-in staff at the door of their event."""
    if user.is_organiser:
        return url_for("admin.dashboard")
    if len(user.checkin_events) == 1:
        return url_for("checkin.page", slug=user.checkin_events[0].slug)
    return url_for("checkin.index")  # their events to choose from, or a page saying none


@bp.route("/login", methods=["GET", "POST"])
@login_limit
def login():
    """Log a staff member in."""
    if current_user.is_authenticated:
        return redirect(_start_page(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            start_session(user)
            if user.language:  # the language they picked last, not a colleague's on this phone
                session["language"] = user.language
            return redirect(_safe_next(request.args.get("next"), user))
        form.password.errors.append(_("The e-mail address or the password is not right."))
    return form_page("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out everywhere (every session of the account ends) and go back to the programme."""
    end_all_sessions(current_user._get_current_object())
    logout_user()
    session.pop("language", None)  # the next person on this device starts in their own
    flash(_("You are logged out."), "success")
    return redirect(url_for("public.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """A staff member replaces their own password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_own_password(current_user, form.current.data, form.password.data)
        except accounts.WrongPassword:
            form.current.errors.append(_("This is not your current password."))
        else:
            start_session(current_user._get_current_object())  # every other browser is logged out
            flash(_("Your password is changed."), "success")
            return redirect(_start_page(current_user))
    return form_page("auth/password.html", form=form)


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
@login_limit
def reset_password(token):
    """Set a new password through the one-time link an admin sent."""
    if accounts.user_for_reset_token(token) is None:
        return render_template("auth/reset.html", form=None), 410
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except accounts.InvalidResetLink:
            return render_template("auth/reset.html", form=None), 410
        flash(_("Your password is set. Please log in with it."), "success")
        return redirect(url_for(".login"))
    return form_page("auth/reset.html", form=form)
