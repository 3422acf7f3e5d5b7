"""Public pages: the programme, an event, sign-up, the privacy notice, the language picker."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..downloads import material_download, name_file
from ..formatting import local_title
from ..forms import form_page
from ..forms.person import already_registered_message
from ..i18n import use_registrant_language
from ..lookups import event_or_404, material_or_404
from ..page_cache import cached_for_visitors
from ..rate_limits import manage_limit, signup_limit
from ..services import accounts, calendar, events, materials, members, registrations
from ..services.availability import availability_for, availability_of
from ..services.contact import contact_address
from ..services.join_links import (
    JoinWindow,
    join_opens_at,
    join_window,
    record_join,
    registration_for_join_token,
)
from ..services.manage_links import manage_token
from ..urls import local_path
from .forms import SignupForm

bp = Blueprint("public", __name__)


@bp.route("/")
@cached_for_visitors
def index():
    """The programme, grouped by kind, with seats left."""
    programme = events.programme()
    return render_template(
        "public/index.html",
        groups=events.by_kind(programme),
        availability=availability_of(programme),
    )


@bp.route("/events/<slug>")
@cached_for_visitors
def event(slug):
    """One event's details and whether one can still sign up."""
    found = event_or_404(slug, include_drafts=False)
    return render_template(
        "public/event.html",
        event=found,
        availability=availability_for(found),
        calendar_links=calendar.calendar_links(found),
    )


@bp.route("/events/<slug>.ics")
def event_ics(slug):
    """One event as a calendar file (no meeting URL: that is for registrants only)."""
    found = event_or_404(slug, include_drafts=False)
    data = calendar.event_calendar(found, url=url_for(".event", slug=slug, _external=True))
    return _calendar_response(data, f"{slug}.ics")


@bp.route("/calendar.ics")
def programme_ics():
    """The whole programme as a feed calendars can subscribe to (webcal://)."""
    return _calendar_response(calendar.programme_feed(events.programme()), "programme.ics")


def _calendar_response(data: bytes, filename: str) -> Response:
    return name_file(Response(data, mimetype="text/calendar"), filename, inline=True)


@bp.route("/events/<slug>/materials")
def materials_list(slug):
    """What everyone may see of the event's materials."""
    event = event_or_404(slug, include_drafts=False)
    return render_template(
        "public/materials.html", event=event, items=materials.for_event(event), token=None
    )


@bp.route("/events/<slug>/materials/<int:material_id>")
def material_file(slug, material_id):
    """A public file, as an attachment."""
    material = material_or_404(event_or_404(slug, include_drafts=False), material_id)
    if not material.is_public or material.is_link:
        abort(404)
    return material_download(material)


@bp.route("/j/<token>")
@manage_limit
def join(token):
    """A registrant's personal join link: while the event runs, count the join and go in."""
    registration = registration_for_join_token(token) or abort(404)
    event = registration.event
    if not registration.is_confirmed or not event.is_online:
        abort(404)
    use_registrant_language(registration.registrant.language)
    window = join_window(event)
    if window is JoinWindow.NOT_YET:
        return render_template(
            "public/join_early.html",
            event=event,
            opens_at=join_opens_at(event),
            calendar_links=calendar.calendar_links(event),
        )
    if window is JoinWindow.OVER:
        return render_template("public/join_over.html", event=event)
    if not event.online_url:
        return render_template("public/join_pending.html", event=event)
    record_join(registration)
    return redirect(event.online_url)


@bp.route("/register", methods=["GET", "POST"])
@signup_limit
def register():
    """Sign up for one or more events whose registration is open."""
    form = SignupForm()
    if not form.is_submitted():
        form.events.data = request.args.getlist("event")
    if form.validate_on_submit():
        # Joining the network is a separate consent (confirmed by its own e-mail), kept in the
        # same transaction as the sign-up.
        joins_network = form.network_opt_in.data
        sign_up = members.sign_up_and_join if joins_network else registrations.sign_up_by_slugs
        try:
            notice = current_app.config["PRIVACY_NOTICE_VERSION"]
            registrant = sign_up(form.person_details(), form.events.data, notice)
        except registrations.UnknownEvent:
            form.events.errors.append(_("Not a valid choice."))
        except registrations.AlreadyRegistered as exc:
            form.email.errors.append(already_registered_message(exc.event))
        except registrations.RegistrationClosed as exc:
            form.events.errors.append(
                _("Registration for %(title)s has closed.", title=local_title(exc.event))
            )
        else:
            return redirect(url_for("manage.confirmed", token=manage_token(registrant)))
    open_events = events.open_for_registration()
    return form_page(
        "public/register.html",
        form=form,
        open_events=open_events,
        availability=availability_of(open_events),
    )


@bp.route("/privacy")
def privacy():
    """The privacy notice people consent to when they sign up."""
    return render_template("public/privacy.html", contact=contact_address())


@bp.route("/accessibility")
def accessibility():
    """The accessibility statement public-sector sites must publish (EU Directive 2016/2102)."""
    return render_template("public/accessibility.html", contact=contact_address())


@bp.route("/language", methods=["POST"])
def language():
    """Remember the language picked on the site and go back to the page."""
    picked = request.form.get("language")
    if picked in current_app.config["LANGUAGES"]:
        session["language"] = picked
        if current_user.is_authenticated:  # staff: their e-mails follow too
            accounts.remember_language(current_user._get_current_object(), picked)
    return redirect(local_path(request.form.get("next")) or url_for("public.index"))
