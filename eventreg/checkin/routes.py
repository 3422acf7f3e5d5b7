"""The check-in page at the door and the JSON endpoints its script calls."""

from functools import wraps

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from ..access import door_event
from ..checkin_answers import count_json, page_checkin_json, person_json, undo_json
from ..extensions import login_manager
from ..forms.checkin import CheckInForm, ScanForm, UndoForm
from ..forms.json import form_from_body
from ..rate_limits import door_search_limit
from ..services import checkin, events

bp = Blueprint("checkin", __name__, url_prefix="/checkin")


def _door_staff_only(*, page: bool):
    """Let in organisers and the event's check-in staff; the view gets the event, not the slug.

    The page sends anonymous visitors to the login form; its JSON endpoints answer 401.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(slug, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized() if page else abort(401)
            return view(door_event(slug), **kwargs)

        return wrapped

    return decorator


staff_page = _door_staff_only(page=True)
staff_json = _door_staff_only(page=False)


def _registration_or_404(event, reference):
    return checkin.registration_at(event, reference) or abort(404)


@bp.get("/")
def index():
    """Where check-in staff land: the events they work at, or a page saying there are none."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    doors = events.programme(include_drafts=True)
    doors = [event for event in doors if current_user.can_check_in_at(event)]
    return render_template("checkin/index.html", events=doors)


@bp.get("/<slug>")
@staff_page
def page(event):
    """The scanner for phones, the search by hand and the live count."""
    return render_template("checkin/page.html", event=event, count=checkin.door_count(event))


@bp.post("/<slug>/scan")
@staff_json
def scan(event):
    """Check in the holder of a scanned ticket."""
    form = form_from_body(ScanForm)
    outcome = checkin.check_in_ticket(event, form.secret.data, staff=current_user, **form.how())
    return page_checkin_json(outcome, event)


@bp.get("/<slug>/search")
@door_search_limit
@staff_json
def search(event):
    """Registrations whose name or reference match what was typed, or the e-mail in full."""
    found = checkin.find_registrations(event, request.args.get("q", "")[:100])
    return {"results": [person_json(registration, event) for registration in found]}


@bp.post("/<slug>/registrations/<reference>/checkin")
@staff_json
def check_in(event, reference):
    """Check in a person found by hand."""
    registration = _registration_or_404(event, reference)
    form = form_from_body(CheckInForm)
    outcome = checkin.check_in(registration, staff=current_user, **form.how())
    return page_checkin_json(outcome, event)


@bp.post("/<slug>/registrations/<reference>/undo")
@staff_json
def undo(event, reference):
    """Take back a check-in made by mistake: of the day named, else the one the door shows."""
    registration = _registration_or_404(event, reference)
    day = form_from_body(UndoForm).day.data if request.content_length else None
    undone = checkin.undo_check_in(registration, staff=current_user, day=day)
    return undo_json(registration, event, undone=undone, day=day)


@bp.get("/<slug>/counter")
@staff_json
def counter(event):
    """Checked in / confirmed, polled by every device at the door."""
    return count_json(checkin.door_count(event))
