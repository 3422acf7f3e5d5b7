"""Error pages for people and JSON errors for the API."""

from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from ..extensions import db
from ..log_redaction import redact
from ..urls import local_path

bp = Blueprint("errors", __name__)


def _wants_json() -> bool:
    """The API, or a script asking for JSON (the check-in page's scanner)."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    wanted = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return wanted == "application/json"


def _referring_page() -> str | None:
    """The page a form was sent from, when it is on this site: opening it gives a new token."""
    parts = urlsplit(request.referrer or "")
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return local_path(urlunsplit(("", "", parts.path, parts.query, "")))


def _render(error: HTTPException):
    if _wants_json():
        return jsonify(
            error=error.name.lower().replace(" ", "_"), message=error.description
        ), error.code
    if isinstance(request.routing_exception, SecurityError):
        # A host outside TRUSTED_HOSTS: Flask builds no URLs for it, so no page with links.
        return Response(f"{error.code} {error.name}\n", error.code, mimetype="text/plain")
    return render_template("errors/error.html", error=error), error.code


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    """A form sent without a valid CSRF token (often: the page was open for too long)."""
    if _wants_json():
        message = _(
            "The form's security token is missing or has expired, so nothing was saved."
            " Reload the page and send the form again."
        )
        return jsonify(error="csrf_token_missing_or_invalid", message=message), 400
    return render_template("errors/form_expired.html", back_url=_referring_page()), 400


@bp.app_errorhandler(HTTPException)
def http_error(error):
    return _render(error)


@bp.app_errorhandler(Exception)
def unexpected_error(error):
    """Roll back whatever the failed request had begun, log it and say sorry."""
    db.session.rollback()
    current_app.logger.exception("Unhandled error on %s", redact(request.path))
    return _render(InternalServerError())
