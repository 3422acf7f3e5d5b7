"""The network of practice: joining, signing in, the profile, the directory, contact (and
blocking one member's messages), stopping the network's e-mails, leaving."""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..access import organiser_required, unless_hidden
from ..extensions import csrf, db
from ..formatting import datetime_in, shortened, wait_until
from ..forms import ButtonForm, ConfirmForm, form_page
from ..models import Member, ReportReason, TargetGroup, utcnow
from ..rate_limits import manage_limit, report_limit, signup_limit
from ..services import abuse_reports, directory, member_contact, members, network_admin, topics
from ..services.directory import DirectoryFilter
from ..urls import local_path
from .forms import (
    FIELD_LABELS,
    AnnouncementForm,
    ContactForm,
    DirectoryForm,
    JoinForm,
    LeaveForm,
    ProfileForm,
    ReportForm,
    SignInForm,
    TopicForm,
)

bp = Blueprint("network", __name__, url_prefix="/network")
# The organiser pages' navigation shows what waits for a decision (counted where it is shown).
bp.add_app_template_global(network_admin.waiting, "network_waiting")

SESSION_KEY = "network_member"


@bp.before_app_request
def load_member():
    """The signed-in member, if any (their key is in the session)."""
    g.member = members.member_by_session(session[SESSION_KEY]) if SESSION_KEY in session else None


@bp.app_context_processor
def member_in_templates():
    return {"signed_in_member": g.get("member"), "profile_field_labels": FIELD_LABELS}


def _require_member(*, listed: bool = True) -> Member:
    """The signed-in member; one whose profile organisers hid reaches only their own pages
    (``listed=False``), not the directory or other members."""
    member = g.get("member")
    if member is None:
        abort(redirect(url_for(".sign_in_request", next=request.full_path.rstrip("?"))))
    if member.is_pending:
        abort(403)
    return unless_hidden(member) if listed else member


@bp.route("")
def index():
    """The public page: how many members where, and the profiles made public."""
    return render_template(
        "network/index.html",
        total=directory.member_count(),
        by_country=directory.counts_by(Member.country),
        by_group=[(TargetGroup(v), n) for v, n in directory.counts_by(Member.target_group)],
        public_members=directory.public_members(),
    )


@bp.route("/join", methods=["GET", "POST"])
@signup_limit
def join():
    """Join the network: the profile now, visible only after the e-mail is confirmed."""
    form = JoinForm()
    if not form.is_submitted():
        form.next.data = local_path(request.args.get("next"))
    if form.validate_on_submit():
        wanted = local_path(form.next.data)
        try:
            members.join(form.email.data, form.profile(), wanted)
        except members.AlreadyMember:
            # The same answer: membership stays private.
            members.request_sign_in(form.email.data, wanted)
        return render_template("network/check_inbox.html")
    return form_page("network/join.html", form=form)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@manage_limit
def confirm(token):
    """The link in the confirmation e-mail, by a button (mail scanners open links): the member
    is in and signed in. Used once; afterwards members sign in with a link of its own."""
    form = ButtonForm()
    if not form.validate_on_submit():
        pending = members.pending_by_confirm_link(token)
        if pending is None:
            return render_template("network/confirm_used.html"), 410
        return render_template("network/confirm.html", form=form, member=pending)
    member = members.confirm(token)
    if member is None:
        return render_template("network/confirm_used.html"), 410
    session[SESSION_KEY] = members.open_session(member)
    if member.is_hidden:  # hidden by the organisers before they left: so again
        flash(
            _(
                "Welcome to the network of practice. The organisers have hidden your profile "
                "from the directory and the public page."
            )
        )
    else:
        flash(_("Welcome to the network of practice. Your profile is now visible to members."))
    return redirect(local_path(request.args.get("next")) or url_for(".profile"))


@bp.route("/sign-in", methods=["GET", "POST"])
@signup_limit
def sign_in_request():
    """Ask for a one-time sign-in link by e-mail."""
    form = SignInForm()
    if not form.is_submitted():
        form.next.data = local_path(request.args.get("next"))
    if form.validate_on_submit():
        members.request_sign_in(form.email.data, local_path(form.next.data))
        return render_template("network/check_inbox.html")
    return form_page("network/sign_in.html", form=form)


@bp.route("/sign-in/<token>", methods=["GET", "POST"])
@manage_limit
def sign_in(token):
    """A sign-in link works once, by a button: mail scanners that open links do not use it up."""
    form = ButtonForm()
    if not form.validate_on_submit():
        return render_template("network/sign_in_confirm.html", form=form)
    member = members.sign_in(token)
    if member is None:
        return render_template("network/sign_in_expired.html"), 410
    session[SESSION_KEY] = members.open_session(member)
    wanted = local_path(request.args.get("next"))  # where the member was going, on this site
    return redirect(wanted or url_for(".directory_page" if member.is_active else ".profile"))


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """Sign out of every browser: a copy of this session's cookie stops working too."""
    if g.get("member") is not None:
        members.end_sessions(g.member)
    session.pop(SESSION_KEY, None)
    return redirect(url_for(".index"))


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """The member's own profile, field by field visible to members or to everyone."""
    member = _require_member(listed=False)
    form = ProfileForm()
    if not form.is_submitted():
        form.fill(member)
    if form.validate_on_submit():
        members.update_profile(member, form.profile())
        flash(_("Your profile has been saved."))
        return redirect(url_for(".profile"))
    return _profile_page(member, form=form, leave_form=LeaveForm(formdata=None))


@bp.route("/profile/data.json")
def profile_data():
    """Everything the network holds about the signed-in member, to download (GDPR art. 15)."""
    member = _require_member(listed=False)
    response = jsonify(members.export_profile(member.email))
    response.headers["Content-Disposition"] = 'attachment; filename="my-network-profile.json"'
    return response


@bp.post("/profile/emails/<any(stop, resume):action>")
def profile_emails(action):
    """Stop the network's e-mails, or receive them again, from the profile page."""
    member = _require_member(listed=False)
    members.set_receives_mail(member, action == "resume")
    if action == "resume":
        flash(_("You will receive the network's e-mails again."))
    else:
        flash(_("The network will send you no more e-mails."))
    return redirect(url_for(".profile"))


@bp.post("/profile/leave")
def leave_from_profile():
    """Leave the network, signed in and with the box ticked: the profile is deleted."""
    member = _require_member(listed=False)
    leave_form = LeaveForm()
    if not leave_form.validate_on_submit():
        form = ProfileForm(formdata=None)
        form.fill(member)
        return _profile_page(member, form=form, leave_form=leave_form)
    members.leave(member)
    session.pop(SESSION_KEY, None)
    return render_template("network/left.html")


@bp.route("/leave/<token>", methods=["GET", "POST"])  # in e-mails sent before: now the same
@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])  # added first: url_for builds it
@csrf.exempt  # RFC 8058: mail clients POST here with no form; the signed token is the proof
def unsubscribe(token):
    """Stop the network's e-mails by the link in any of them (one click, or the mail client's
    List-Unsubscribe-Post). Nothing more: whoever holds a forwarded or quoted e-mail holds it."""
    if request.method == "GET":
        return render_template("network/unsubscribe.html", token=token)
    if not members.stop_mail_by_token(token):
        abort(404)
    return render_template("network/unsubscribed.html")


@bp.route("/directory")
def directory_page():
    """The members-only directory with search and filters."""
    _require_member()
    form = DirectoryForm(request.args)
    criteria = DirectoryFilter(
        words=form.q.data or "",
        country=form.country.data or "",
        topic_id=int(form.topic.data) if (form.topic.data or "").isdigit() else None,
        target_group=_target_group(form.target_group.data),
        language=form.language.data or "",
    )
    return render_template("network/directory.html", form=form, found=directory.search(criteria))


@bp.route("/members/<int:member_id>")
def member_page(member_id):
    """A profile: all of it for members, the public fields for everyone else."""
    member = db.session.get(Member, member_id) or abort(404)
    reader = g.get("member")
    as_member = reader is not None and reader.is_active
    if not member.is_active or not (as_member or member.is_public):
        abort(404)
    writes = as_member and reader.id != member.id
    return render_template(
        "network/member.html",
        member=member,
        as_member=as_member,
        writes=writes,
        can_write=writes and member_contact.accepts_messages(member, reader),
        blocked=writes and member_contact.has_blocked(reader, member),
        form=ButtonForm(),
    )


@bp.post("/members/<int:member_id>/<any(block, unblock):action>")
def block_member(member_id, action):
    """Stop (or restart) the messages of one member, from their page or the profile page."""
    member = _require_member(listed=action == "block")  # hidden: may still undo a block
    if action == "block":
        other = member_contact.block(member, member_id) or abort(404)
        flash(_("You will get no more messages from %(name)s.", name=other.name))
    else:
        other = member_contact.unblock(member, member_id) or abort(404)
        flash(_("You can get messages from %(name)s again.", name=other.name))
    if request.form.get("back") == "profile" or not (other.is_active and member.is_active):
        return redirect(url_for(".profile"))
    return redirect(url_for(".member_page", member_id=other.id))


@bp.route("/block/<token>", methods=["GET", "POST"])
def block_sender(token):
    """Stop the messages of one member by the link in a message they sent (no sign-in)."""
    member, sender = member_contact.block_link_members(token) or abort(404)
    form = ButtonForm()
    if form.validate_on_submit():
        member_contact.block(member, sender.id, by_their_message=True)
        return render_template("network/blocked.html", sender=sender)
    return form_page("network/block.html", form=form, sender=sender)


@bp.route("/members/<int:member_id>/contact", methods=["GET", "POST"])
def contact(member_id):
    """Write to a member through the service; they get the sender's address to reply to."""
    sender = _require_member()
    recipient = db.session.get(Member, member_id) or abort(404)
    if not recipient.is_active:
        abort(404)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            member_contact.send(sender, recipient, form.text.data)
        except member_contact.ContactRefused as exc:
            form.text.errors.append(_refusal(exc))
        else:
            flash(
                _(
                    "Your message has been sent. %(name)s can answer you by e-mail.",
                    name=recipient.name,
                )
            )
            return redirect(url_for(".member_page", member_id=recipient.id))
    return form_page("network/contact.html", form=form, recipient=recipient)


@bp.route("/members/<int:member_id>/report", methods=["GET", "POST"])
@report_limit
def report(member_id):
    """Tell the organisers about a member's profile or a message they sent (never told who).

    A member the organisers hid may still report the messages they received."""
    reporter = _require_member(listed=False)
    other = abuse_reports.reportable(reporter, member_id) or abort(404)
    named = _named_message(reporter, other, request.args.get("message"))
    form = ReportForm(subjects=_report_subjects(reporter, other, named))
    if not form.is_submitted():
        form.subject.data = f"message-{named.ref}" if named else _preselected(form)
    if form.validate_on_submit():
        try:
            made = abuse_reports.report(
                reporter,
                other,
                ReportReason(form.reason.data),
                form.note.data,
                message_ref=form.message_ref,
                block=form.block.data,
            )
        except abuse_reports.NothingToReport:
            abort(404)
        if made is None:
            flash(_("You have reported this already. Thank you: the organisers will look into it."))
        else:
            flash(_("Thank you for your report. The organisers will look into it."))
        if abuse_reports.may_report_profile(reporter, other):  # the page they came from
            return redirect(url_for(".member_page", member_id=other.id))
        return redirect(url_for(".profile"))
    return form_page("network/report.html", form=form, other=other, named=named)


@bp.route("/admin/reports")
@organiser_required
def reports():
    """Organisers: members' open reports, with what was reported as it was then."""
    return render_template(
        "network/reports.html",
        open_reports=abuse_reports.open_reports(),
        decided=abuse_reports.decided_reports(),
        deciders=network_admin.report_deciders(),
        topic_label=topics.label_of,
        form=ButtonForm(),
    )


@bp.post("/admin/reports/<int:report_id>/<any(dismiss, hide):action>")
@organiser_required
def decide_report(report_id, action):
    """Dismiss a report, or hide the member reported; either is recorded in the audit log."""
    user = current_user._get_current_object()
    if action == "hide":
        decided = network_admin.hide_reported(report_id, actor=user)
        message = _("The member is hidden: out of the directory, and they can write to nobody.")
    else:
        decided = network_admin.dismiss_report(report_id, actor=user)
        message = _("The report has been dismissed.")
    if decided is None:
        message = _("This report has been decided on already, or it is gone.")
    elif decided.reported_left and decided.is_acted:
        message = _("The member has left the network. Should they join again, they are hidden.")
    flash(message)
    return redirect(url_for(".reports"))


@bp.route("/admin")
@organiser_required
def admin():
    """Organisers: every member with moderation buttons, and the statistics."""
    return render_template(
        "network/admin.html",
        members=network_admin.all_members(),
        stats=network_admin.statistics(),
        form=ButtonForm(),
        confirm_form=ConfirmForm(),
    )


@bp.route("/admin/members/<int:member_id>/<any(hide, show, remove):action>", methods=["POST"])
@organiser_required
def moderate(member_id, action):
    """Hide a profile, show it again, or remove it."""
    member = db.session.get(Member, member_id) or abort(404)
    if action == "remove":
        if not ConfirmForm().validate_on_submit():
            flash(_("Tick the box to confirm that the profile is deleted."), "error")
            return redirect(url_for(".admin"))
        network_admin.remove(member)
    else:
        network_admin.set_hidden(member, hidden=action == "hide")
    return redirect(url_for(".admin"))


@bp.route("/admin/announce", methods=["GET", "POST"])
@organiser_required
def announce():
    """Write to every member through the outbox."""
    form = AnnouncementForm()
    if form.validate_on_submit():
        try:
            count = network_admin.announce(form.subject.data, form.text.data)
        except network_admin.AlreadyAnnounced:
            flash(
                _(
                    "This announcement went to the members a few minutes ago: it is not sent"
                    " twice. Change it to send it again."
                ),
                "error",
            )
            return redirect(url_for(".admin"))
        flash(_("The announcement is on its way to %(count)d members.", count=count))
        return redirect(url_for(".admin"))
    return form_page("network/announce.html", form=form)


@bp.route("/admin/topics", methods=["GET", "POST"])
@organiser_required
def topics_page():
    """The topics of expertise members choose from; organisers add to them."""
    form = TopicForm()
    if form.validate_on_submit():
        try:
            topics.add(form.name.data)
        except topics.TopicExists:
            form.name.errors.append(_("This topic is already on the list."))
        else:
            return redirect(url_for(".topics_page"))
    return form_page("network/topics.html", form=form, topics=topics.all_topics())


@bp.route("/admin/members.csv")
@organiser_required
def export():
    """Members who agreed to be listed, with the fields they made public."""
    return Response(
        network_admin.listed_members_csv(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="network-members.csv"',
            "Cache-Control": "no-store",  # personal data
        },
    )


def _profile_page(member: Member, *, form: ProfileForm, leave_form: LeaveForm):
    """The profile page: its form, the e-mail setting, the blocks, leaving (422 on an error)."""
    page = render_template(
        "network/profile.html",
        form=form,
        member=member,
        leave_form=leave_form,
        button_form=ButtonForm(),
        blocked=member_contact.blocked_members(member),
    )
    return page, 422 if form.errors or leave_form.errors else 200


def _report_subjects(
    reporter: Member, other: Member, named: abuse_reports.ReceivedMessage | None
) -> list[tuple[str, str]]:
    """What the reporter may report: the profile they can see, each message they received
    lately, and the one the e-mail's link names (older ones come last, so it does too)."""
    subjects = (
        [("profile", _("The profile of %(name)s", name=other.name))]
        if abuse_reports.may_report_profile(reporter, other)
        else []
    )
    messages = abuse_reports.received_messages(reporter, other)
    if named is not None and named not in messages:
        messages.append(named)
    for message in messages:
        when = datetime_in(message.sent_at, "UTC")
        excerpt = shortened(message.text, 120)
        subjects.append(
            (f"message-{message.ref}", _("Message of %(when)s", when=when) + f": {excerpt}")
        )
    return subjects


def _named_message(
    reporter: Member, other: Member, ref: str | None
) -> abuse_reports.ReceivedMessage | None:
    """The message an e-mail's "Report this message" link names; 404 when it is not one the
    reporter received from this member (never the profile in its place)."""
    if ref is None:
        return None
    if not (ref.isascii() and ref.isdigit()) or len(ref) > 18:  # no number the database holds
        abort(404)
    return abuse_reports.received_message(reporter, other, int(ref)) or abort(404)


def _preselected(form: ReportForm) -> str | None:
    """The only choice, else the profile."""
    values = [choice.value for choice in form.subject.choices]
    return values[0] if len(values) == 1 or values[:1] == ["profile"] else None


def _refusal(refused: member_contact.ContactRefused) -> str:
    if refused.reason == "blocked":
        return _("This member does not accept messages.")
    if refused.reason == "limit":
        return _(
            "You have sent the most messages allowed in 24 hours. You can write again in %(wait)s.",
            wait=wait_until(refused.until, utcnow()),
        )
    return _("This member cannot be reached.")


def _target_group(value: str | None) -> TargetGroup | None:
    try:
        return TargetGroup(value) if value else None
    except ValueError:
        return None
