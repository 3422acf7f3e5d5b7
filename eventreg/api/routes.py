"""JSON API, version 1 (described in openapi.json)."""

import json
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, request, session
from flask_babel import get_locale
from flask_login import current_user

from ..access import door_event, roles_required
from ..checkin_answers import checkin_json, undo_api_json
from ..extensions import csrf
from ..forms.checkin import ApiCheckinForm, ApiUndoForm
from ..forms.json import form_from_body, form_from_json, json_object
from ..forms.materials import MaterialForm
from ..forms.person import ConsentForm
from ..lookups import event_or_404
from ..models import MaterialVisibility, Role
from ..page_cache import cached_for_visitors
from ..rate_limits import api_limit, signup_limit
from ..services import checkin, events, materials, registrations
from ..services.availability import availability_for, availability_of
from .payloads import event_json, material_json

bp = Blueprint("api", __name__, url_prefix="/api/v1")
api_limit(bp)  # checked before any view runs; a stored answer goes out before it (page_cache)


@bp.before_request
def session_writes_carry_the_csrf_token():
    """API clients authenticate with bearer tokens, which no other site can make a browser
    send. A staff member's session cookie also reaches the API (and is read before any token):
    a write that carries one must carry the page's CSRF token (``X-CSRFToken``), as every form
    does."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if "_user_id" in session and current_app.config["WTF_CSRF_ENABLED"]:
        csrf.protect()


OPENAPI = json.dumps(json.loads((Path(__file__).parent / "openapi.json").read_text("utf-8")))


@bp.get("/openapi.json")
def openapi():
    """The API's description."""
    return Response(OPENAPI, mimetype="application/json")


@bp.get("/events")
@cached_for_visitors
def list_events():
    """Every event of the programme, in date order."""
    programme = events.programme()
    availability = availability_of(programme)
    language = str(get_locale())
    return {"events": [event_json(event, availability[event.id], language) for event in programme]}


@bp.get("/events/<slug>")
@cached_for_visitors
def get_event(slug):
    """One event."""
    event = event_or_404(slug, include_drafts=False)
    return event_json(event, availability_for(event), str(get_locale()))


@bp.post("/events/<slug>/registrations")
@signup_limit  # as the form: each sign-up mails the address it names
def create_registration(slug):
    """Register a person for one event; 201 with the reference and the status."""
    form, type_errors = form_from_json(ConsentForm, json_object())
    form.validate()
    errors = {**form.errors, **type_errors}
    if errors:
        event_or_404(slug, include_drafts=False)  # a wrong address is a 404 before any 422
        return jsonify(errors={name: [str(m) for m in msgs] for name, msgs in errors.items()}), 422
    try:
        registrant = registrations.sign_up_by_slugs(
            form.person_details(), [slug], current_app.config["PRIVACY_NOTICE_VERSION"]
        )
    except registrations.UnknownEvent:
        abort(404, description="No event with that slug.")
    except registrations.RegistrationClosed:
        return _conflict("registration_closed", "Registration for this event is not open.")
    except registrations.AlreadyRegistered:
        return _conflict(
            "already_registered", "This e-mail address already holds a registration for this event."
        )
    (registration,) = registrant.registrations
    body = {"reference": registration.reference, "status": registration.status.value, "event": slug}
    return body, 201


@bp.post("/checkin")
@roles_required(Role.ADMIN, Role.ORGANISER, Role.CHECKIN)
def check_in():
    """Check in the holder of a scanned ticket: organisers anywhere, staff at their events."""
    form = form_from_body(ApiCheckinForm)
    event = door_event(form.event.data)
    outcome = checkin.check_in_ticket(event, form.secret.data, staff=current_user, **form.how())
    return checkin_json(outcome, event)


@bp.post("/checkin/undo")
@roles_required(Role.ADMIN, Role.ORGANISER, Role.CHECKIN)
def undo_check_in():
    """Take back a check-in made by mistake: of the day named, else the latest if just made."""
    form = form_from_body(ApiUndoForm)
    event = door_event(form.event.data)
    registration = checkin.ticket_at(event, form.secret.data)
    if registration is None:
        abort(404, description="No ticket of this event has that secret.")
    undone = checkin.undo_check_in(registration, staff=current_user, day=form.day.data)
    return undo_api_json(registration, event, undone=undone)


@bp.post("/events/<slug>/materials")
@roles_required(Role.ADMIN, Role.ORGANISER)
def create_material(slug):
    """Attach a file (multipart ``file``) or a link (``url``) to an event; 201 with the item."""
    event = event_or_404(slug)
    form = MaterialForm(meta={"csrf": False})
    errors = {} if form.validate() else dict(form.errors)
    if not errors:
        visibility = MaterialVisibility(form.visibility.data)
        try:
            material = materials.add(
                event, form.titles(), visibility, upload=form.file.data, url=form.url.data
            )
        except materials.MaterialRefused as refused:
            errors = {refused.field: [refused.message]}
    if errors:
        return jsonify(errors={name: [str(m) for m in msgs] for name, msgs in errors.items()}), 422
    return material_json(material), 201


def _conflict(code: str, message: str):
    return jsonify(error=code, message=message), 409
