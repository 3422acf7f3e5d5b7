"""The organiser area."""

from flask import Blueprint, render_template

from ..auth.access import organiser_required
from ..services import events
from ..services.availability import availability_of

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@organiser_required
def dashboard():
    """Every event with its confirmed seats and waiting list."""
    programme = events.programme()
    return render_template(
        "admin/dashboard.html", events=programme, availability=availability_of(programme)
    )
