"""Whether an attendance certificate is real: the page its QR code and link lead to."""

from flask import Blueprint, Response, render_template

from ..rate_limits import manage_limit
from ..services import certificates

bp = Blueprint("certificates", __name__)


@bp.route("/certificates/<code>")
@manage_limit
def verify(code):
    """Whether a certificate is real: its holder, event and dates; "not valid" for anything else."""
    certificate = certificates.find(code)
    valid = certificate is not None and certificate.is_valid
    response = Response(
        render_template("certificates/verify.html", certificate=certificate, valid=valid),
        status=200 if valid else 404,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
