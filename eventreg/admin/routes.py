"""The organiser area: events, attendance lists, registrations, messages, the outbox, accounts."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..access import admin_required, organiser_required
from ..extensions import db
from ..formatting import SKIP_REASON_LABELS, STATUS_LABELS, local_title
from ..forms import ButtonForm, ConfirmForm, form_page
from ..lookups import edited_event_or_404, event_or_404, registration_or_404
from ..models import MessageStatus, OutboxMessage, RegistrationStatus, User, utcnow
from ..services import (
    accounts,
    attendee_list,
    audit,
    edits,
    events,
    outbox,
    privacy,
    registrations,
)
from ..services.availability import availability_for, availability_of
from ..services.messages import AlreadySent, send_to_registrants
from ..services.notifications import build_message, subject_of
from . import history
from .forms import (
    AddPersonForm,
    EventForm,
    MessageForm,
    MoveForm,
    PromoteForm,
    RoleForm,
    StaffEventsForm,
    UserForm,
    check_ins_left_out_error,
    check_ins_shifted_error,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


# Far beyond any list (100 people a page); larger numbers overflow the database's OFFSET.
MAX_PAGE = 100_000


def _page_number() -> int:
    """The ``page`` asked for; 404 for a number no list reaches."""
    number = request.args.get("page", 1, type=int)
    if not 1 <= number <= MAX_PAGE:
        abort(404)
    return number


@bp.route("/")
@organiser_required
def dashboard():
    """Every event with its confirmed seats and waiting list."""
    programme = events.programme(include_drafts=True)
    return render_template(
        "admin/dashboard.html", events=programme, availability=availability_of(programme)
    )


@bp.route("/events/new", methods=["GET", "POST"])
@organiser_required
def new_event():
    """Create an event."""
    form = EventForm()
    if form.validate_on_submit():
        values = form.event_values() | {"status": "published" if form.publish.data else "draft"}
        try:
            event = events.create_event(values, actor=current_user)
        except events.SlugTaken:
            form.slug.errors.append(_("Another event already has this slug."))
        else:
            flash(_("The event is saved."), "success")
            return redirect(url_for(".event", slug=event.slug))
    return form_page("admin/event_form.html", form=form, event=None)


@bp.route("/events/<slug>/edit", methods=["GET", "POST"])
@organiser_required
def edit_event(slug):
    """Change an event; registrants get updated invitations when its time or place moves."""
    event = edited_event_or_404(slug)
    form = EventForm(event=event)
    if not form.is_submitted():
        form.load(event)
        form.seen.data = events.edit_fingerprint(event, EventForm.shown_values)
    if form.validate_on_submit():
        try:
            changed = events.update_event(
                event,
                form.event_values(),
                actor=current_user,
                publish=form.publish.data,
                seen=form.seen.data,
                shown=EventForm.shown_values,
            )
        except edits.EditConflict as conflict:
            form.mark_conflicts(conflict, event)  # read again: the transaction was undone
            flash(
                _("Someone else saved this event after you opened the page: nothing was saved."),
                "error",
            )
        except events.SlugTaken:
            form.slug.errors.append(_("Another event already has this slug."))
        except events.SlugFixed:  # published since the form was checked
            form.slug.errors.append(_("A published event keeps its address."))
        except events.CheckInsOutsideDays as refused:
            form.agenda.errors.append(check_ins_left_out_error(refused.left_out))
        except events.CheckInsChangeDay as refused:
            form.timezone.errors.append(check_ins_shifted_error(refused.shifted))
        else:
            flash(_("Saved: %(count)d field(s) changed.", count=len(changed)), "success")
            return redirect(url_for(".event", slug=event.slug))
    return form_page("admin/event_form.html", form=form, event=event)


@bp.post("/events/<slug>/publish")
@organiser_required
def publish_event(slug):
    """Make a draft public."""
    event = event_or_404(slug)
    events.publish_event(event, actor=current_user)
    flash(_("The event is published."), "success")
    return redirect(url_for(".event", slug=slug))


@bp.post("/events/<slug>/cancel")
@organiser_required
def cancel_event(slug):
    """Call the event off and tell everyone registered."""
    event = event_or_404(slug)
    if not ConfirmForm().validate_on_submit():
        flash(_("Tick the box to confirm that the event is called off."), "error")
        return redirect(url_for(".event", slug=slug))
    try:
        count = events.cancel_event(event, actor=current_user)
    except events.EventHasEnded:
        flash(_("The event has ended: it can no longer be called off."), "error")
        return redirect(url_for(".event", slug=slug))
    flash(_("The event is called off; %(count)d registrant(s) are told.", count=count), "success")
    return redirect(url_for(".event", slug=slug))


@bp.route("/events/<slug>")
@organiser_required
def event(slug):
    """The attendance list: search, filter, sort, page."""
    found = event_or_404(slug)
    wanted = attendee_list.AttendeeFilter.from_args(request.args)
    return render_template(
        "admin/event.html",
        event=found,
        availability=availability_for(found),
        wanted=wanted,
        page=attendee_list.attendee_page(found, wanted, _page_number()),
        countries=attendee_list.countries_of(found),
        other_days=attendee_list.has_other_days(found),
        confirm_form=ConfirmForm(),
        filter_args={k: v for k, v in request.args.items() if k not in ("page", "slug")},
        action_form=ButtonForm(),
    )


@bp.route("/events/<slug>/registrations/new", methods=["GET", "POST"])
@organiser_required
def add_person(slug):
    """Add a person by hand, also after registration has closed."""
    event = event_or_404(slug)
    form = AddPersonForm()
    if form.validate_on_submit():
        try:
            registrant = registrations.sign_up(
                form.person_details(), [event], _notice_version(), actor=current_user
            )
        except registrations.AlreadyRegistered:
            form.email.errors.append(_("This e-mail address is already registered for the event."))
        except registrations.RegistrationClosed:
            flash(_("The event has been called off: nobody can be added."), "error")
        else:
            (registration,) = registrant.registrations
            status = STATUS_LABELS[registration.status.value]
            flash(_("Added with status: %(status)s.", status=status), "success")
            return redirect(url_for(".registration", reference=registration.reference))
    return form_page("admin/add_person.html", form=form, event=event)


@bp.route("/registrations/<reference>")
@organiser_required
def registration(reference):
    """One registration with the person's details and everything that happened to it."""
    found = registration_or_404(reference)
    return render_template(
        "admin/registration.html",
        registration=found,
        timeline=audit.timeline(found),
        history=history,
        position=registrations.waitlist_position(found),
        confirm_form=ConfirmForm(),
        promote_form=PromoteForm(),
        move_form=MoveForm(events=_move_targets(found)),
    )


@bp.post("/registrations/<reference>/cancel")
@organiser_required
def cancel_registration(reference):
    """Cancel on the person's behalf, once ticked as meant; the seat goes to the waiting list."""
    found = registration_or_404(reference)
    if not ConfirmForm().validate_on_submit():
        flash(_("Tick the box to confirm that the registration is cancelled."), "error")
        return redirect(url_for(".registration", reference=reference))
    try:
        registrations.cancel(found, actor=current_user)
    except registrations.EventHasEnded:
        _flash_ended()
        return redirect(url_for(".registration", reference=reference))
    flash(_("The registration is cancelled."), "success")
    return redirect(url_for(".registration", reference=reference))


@bp.post("/registrations/<reference>/promote")
@organiser_required
def promote_registration(reference):
    """Give a waiting person a seat now (adds one seat if the event is full)."""
    found = registration_or_404(reference)
    form = PromoteForm()
    _require(form)
    try:
        registrations.promote(found, actor=current_user, ahead_of_queue=form.ahead_of_queue.data)
    except registrations.NotWaiting:
        abort(409)
    except registrations.EventHasEnded:
        _flash_ended()
        return redirect(url_for(".registration", reference=reference))
    except registrations.OutOfOrder as exc:
        message = ngettext(
            "%(num)d person has waited longer. Tick the box to give this seat out of turn.",
            "%(num)d people have waited longer. Tick the box to give this seat out of turn.",
            exc.waiting_longer,
        )
        flash(message, "error")
        return redirect(url_for(".registration", reference=reference))
    flash(_("The person has a seat now and is told by e-mail."), "success")
    return redirect(url_for(".registration", reference=reference))


@bp.post("/registrations/<reference>/move")
@organiser_required
def move_registration(reference):
    """Move the registration to another event."""
    found = registration_or_404(reference)
    targets = _move_targets(found)
    form = MoveForm(events=targets)
    _require(form)
    target = next(e for e in targets if e.slug == form.target.data)
    try:
        moved = registrations.move(found, target, actor=current_user)
    except registrations.AlreadyRegistered:
        flash(
            _("The person is already registered for %(title)s.", title=local_title(target)), "error"
        )
        return redirect(url_for(".registration", reference=reference))
    except registrations.RegistrationClosed:
        flash(_("%(title)s has been called off.", title=local_title(target)), "error")
        return redirect(url_for(".registration", reference=reference))
    except registrations.EventHasEnded as ended:
        if ended.slug == target.slug:
            message = _(
                "%(title)s has ended: nobody can be moved to it.", title=local_title(target)
            )
            flash(message, "error")
        else:
            _flash_ended()
        return redirect(url_for(".registration", reference=reference))
    except registrations.SignupError:
        flash(_("Only a confirmed or waiting registration can be moved."), "error")
        return redirect(url_for(".registration", reference=reference))
    flash(_("Moved to %(title)s.", title=local_title(target)), "success")
    return redirect(url_for(".registration", reference=moved.reference))


def _flash_ended() -> None:
    """Why an ended event's registration cannot be cancelled, moved or given a seat."""
    message = _(
        "The event has ended: its registrations are kept as they were, with their attendance, "
        "and can no longer be cancelled, moved or given a seat."
    )
    flash(message, "error")


def _move_targets(registration) -> list:
    """The events a registration can move to: not its own, not one called off or ended, not one
    the person already holds a place at."""
    held = {r.event_id for r in registration.registrant.active_registrations}
    now = utcnow()
    return [
        event
        for event in events.programme(include_drafts=True)
        if event.id != registration.event_id
        and event.id not in held
        and not event.is_cancelled
        and not event.has_ended(now)
    ]


@bp.route("/registrations/<reference>/data.json")
@organiser_required
def registration_data(reference):
    """Everything held about the person, for a request under the GDPR."""
    found = registration_or_404(reference)
    response = jsonify(privacy.export_data(found.registrant, network_profile=True))
    response.headers["Content-Disposition"] = f'attachment; filename="data-{reference}.json"'
    return response


@bp.post("/registrations/<reference>/erase")
@organiser_required
def erase_registrant(reference):
    """Erase the person's data on their request: all their registrations are cancelled."""
    found = registration_or_404(reference)
    if not ConfirmForm().validate_on_submit():
        flash(_("Tick the box to confirm that the person's data is erased."), "error")
        return redirect(url_for(".registration", reference=reference))
    privacy.erase(found.registrant, actor=current_user, network_profile=True)
    flash(_("The person's data is erased."), "success")
    return redirect(url_for(".registration", reference=reference))


@bp.route("/events/<slug>/message", methods=["GET", "POST"])
@organiser_required
def message(slug):
    """Write to the event's registrants."""
    event = event_or_404(slug)
    form = MessageForm()
    if form.validate_on_submit():
        statuses = [RegistrationStatus(s) for s in form.statuses.data]
        try:
            count = send_to_registrants(
                event, statuses, form.subject.data, form.body.data, actor=current_user
            )
        except AlreadySent:
            flash(
                _(
                    "This message went to the event's registrants a few minutes ago: it is not"
                    " sent twice. Change it to send it again."
                ),
                "error",
            )
            return redirect(url_for(".event", slug=slug))
        flash(_("%(count)d message(s) queued.", count=count), "success")
        return redirect(url_for(".event", slug=slug))
    return form_page("admin/message.html", form=form, event=event)


@bp.route("/outbox")
@organiser_required
def outbox_list():
    """The e-mail the service owes or has sent: pending, sent, failed with the error."""
    status = request.args.get("status")
    chosen = MessageStatus(status) if status in set(MessageStatus) else None
    recipient = request.args.get("to", "").strip()[:254]
    messages = outbox.recent(chosen, recipient=recipient)
    return render_template(
        "admin/outbox.html",
        messages=messages,
        subjects={m.id: subject_of(m) for m in messages if not (m.is_erased or m.kind.is_network)},
        counts=outbox.counts(),
        chosen=chosen,
        recipient=recipient,
        retry_form=ButtonForm(),
    )


@bp.route("/outbox/<int:message_id>")
@organiser_required
def outbox_message(message_id):
    """One message as the registrant receives it."""
    message = db.get_or_404(OutboxMessage, message_id)
    if message.kind.is_private:
        abort(404)
    return render_template(
        "admin/outbox_message.html",
        message=message,
        email=None if message.is_erased else build_message(message, reveal_secrets=False),
        retry_form=ButtonForm(),
    )


@bp.route("/outbox/<int:message_id>.eml")
@organiser_required
def outbox_eml(message_id):
    """The message as an .eml file, to open in a mail program; gone once the person is erased."""
    message = db.get_or_404(OutboxMessage, message_id)
    if message.is_erased:
        abort(410)
    if message.kind.is_private:
        abort(404)
    return Response(
        build_message(message, reveal_secrets=False).as_bytes(),
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="message-{message_id}.eml"'},
    )


@bp.post("/outbox/<int:message_id>/retry")
@organiser_required
def outbox_retry(message_id):
    """Queue a failed message again."""
    message = db.get_or_404(OutboxMessage, message_id)
    if not message.can_retry:
        abort(400)
    if reason := outbox.retry(message):
        label = SKIP_REASON_LABELS[reason.value]
        flash(_("Not queued again: this message is out of date. %(reason)s", reason=label), "error")
    else:
        flash(_("The message is queued again."), "success")
    return redirect(url_for(".outbox_list"))


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users():
    """Staff accounts: create them and see their roles."""
    form = UserForm()
    if form.validate_on_submit():
        try:
            accounts.create_user(form.email.data, form.role.data, form.password.data)
        except accounts.EmailTaken:
            form.email.errors.append(_("An account with this e-mail address already exists."))
        else:
            flash(_("The account is created."), "success")
            return redirect(url_for(".users"))
    return form_page(
        "admin/users.html",
        form=form,
        users=db.session.scalars(db.select(User).order_by(User.email)).all(),
        action_form=ButtonForm(),
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user(user_id):
    """One account: its check-in events, tokens, and whether it may log in."""
    found = db.get_or_404(User, user_id)
    programme = events.programme(include_drafts=True)
    form = StaffEventsForm(events=programme)
    if not form.is_submitted():
        form.show(found.checkin_events)
    if form.validate_on_submit():
        added, removed = form.changes(programme, found.checkin_events)
        accounts.change_checkin_events(found, added=added, removed=removed)
        flash(_("Saved."), "success")
        return redirect(url_for(".user", user_id=user_id))
    role_form = RoleForm(formdata=None, role=found.role.value)
    return form_page(
        "admin/user.html", user=found, form=form, role_form=role_form, action_form=ButtonForm()
    )


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id):
    """Give the account another role (an admin cannot change their own: someone must stay)."""
    found = db.get_or_404(User, user_id)
    if found.id == current_user.id:
        abort(400)
    form = RoleForm()
    _require(form)
    try:
        accounts.change_role(found, form.role.data, actor=current_user)
    except accounts.NoLongerAdmin:
        abort(403)
    flash(_("Saved."), "success")
    return redirect(url_for(".user", user_id=user_id))


@bp.post("/users/<int:user_id>/reset-link")
@admin_required
def send_reset_link(user_id):
    """E-mail the account a one-time link to set a new password."""
    found = db.get_or_404(User, user_id)
    if not found.is_active:
        abort(409)
    accounts.send_password_reset(found)
    message = _("A link to set a new password is on its way to %(email)s.", email=found.email)
    flash(message, "success")
    return redirect(url_for(".user", user_id=user_id))


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def deactivate_user(user_id):
    """Stop an account from logging in or using its tokens."""
    found = db.get_or_404(User, user_id)
    if found.id == current_user.id:
        abort(400)
    try:
        accounts.deactivate(found, actor=current_user)
    except accounts.NoLongerAdmin:
        abort(403)
    flash(_("The account can no longer log in."), "success")
    return redirect(url_for(".user", user_id=user_id))


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def reactivate_user(user_id):
    """Let a deactivated account log in again."""
    found = db.get_or_404(User, user_id)
    accounts.reactivate(found)
    flash(_("The account can log in again. Send it a link to set a new password."), "success")
    return redirect(url_for(".user", user_id=user_id))


@bp.post("/users/<int:user_id>/revoke-tokens")
@admin_required
def revoke_tokens(user_id):
    """Revoke the account's API tokens."""
    found = db.get_or_404(User, user_id)
    count = accounts.revoke_api_tokens(found)
    flash(_("%(count)d token(s) revoked.", count=count), "success")
    return redirect(url_for(".user", user_id=user_id))


def _require(form) -> None:
    """A form whose every value comes from the page's own choices: invalid is a bad request.

    (The CSRF token of every POST is checked before any view, by CSRFProtect.)
    """
    if not form.validate_on_submit():
        abort(400)


def _notice_version() -> str:
    return current_app.config["PRIVACY_NOTICE_VERSION"]
