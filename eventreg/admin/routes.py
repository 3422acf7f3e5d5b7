"""The organiser area."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.access import organiser_required
from ..extensions import db
from ..models import MessageStatus, OutboxMessage
from ..services import events, outbox
from ..services.availability import availability_of
from ..services.notifications import build_message
from .forms import RetryForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@organiser_required
def dashboard():
    """Every event with its confirmed seats and waiting list."""
    programme = events.programme()
    return render_template(
        "admin/dashboard.html", events=programme, availability=availability_of(programme)
    )


@bp.route("/outbox")
@organiser_required
def outbox_list():
    """The e-mail the service owes or has sent: pending, sent, failed with the error."""
    status = request.args.get("status")
    chosen = MessageStatus(status) if status in set(MessageStatus) else None
    return render_template(
        "admin/outbox.html",
        messages=outbox.recent(chosen),
        counts=outbox.counts(),
        chosen=chosen,
        retry_form=RetryForm(),
    )


@bp.route("/outbox/<int:message_id>")
@organiser_required
def outbox_message(message_id):
    """One message as the registrant receives it."""
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template(
        "admin/outbox_message.html",
        message=message,
        email=build_message(message),
        retry_form=RetryForm(),
    )


@bp.route("/outbox/<int:message_id>.eml")
@organiser_required
def outbox_eml(message_id):
    """The message as an .eml file, to open in a mail program."""
    message = db.get_or_404(OutboxMessage, message_id)
    return Response(
        build_message(message).as_bytes(),
        mimetype="message/rfc822",
        headers={"Content-Disposition": f'attachment; filename="message-{message_id}.eml"'},
    )


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@organiser_required
def outbox_retry(message_id):
    """Queue a failed message again."""
    message = db.get_or_404(OutboxMessage, message_id)
    if not RetryForm().validate_on_submit() or not message.can_retry:
        abort(400)
    outbox.retry(message)
    flash(_("The message is queued again."), "success")
    return redirect(url_for(".outbox_list"))
