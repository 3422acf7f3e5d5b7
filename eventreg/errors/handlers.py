"""Error pages for people and JSON errors for the API."""

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from ..extensions import db
from ..log_redaction import redact

bp = Blueprint("errors", __name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


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
        return jsonify(error="csrf_token_missing_or_invalid", message=error.description), 400
    return render_template("errors/error.html", error=error, csrf=True), 400


@bp.app_errorhandler(HTTPException)
def http_error(error):
    return _render(error)


@bp.app_errorhandler(Exception)
def unexpected_error(error):
    """Roll back whatever the failed request had begun, log it and say sorry."""
    db.session.rollback()
    current_app.logger.exception("Unhandled error on %s", redact(request.path))
    return _render(InternalServerError())
