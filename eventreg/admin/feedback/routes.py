"""Feedback for organisers: results, the CSV, asking for it, the questionnaire's questions."""

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ...access import organiser_required
from ...downloads import name_file
from ...extensions import db
from ...forms import ButtonForm, ConfirmForm, form_page
from ...lookups import event_or_404, registration_or_404
from ...models import FeedbackQuestion, QuestionKind, utcnow
from ...services import edits, feedback
from .forms import QuestionForm

bp = Blueprint("feedback", __name__)


@bp.route("/events/<slug>/feedback")
@organiser_required
def results(slug):
    """Counts, averages and charts of the answers, and the free texts: never who said what."""
    event = event_or_404(slug)
    return render_template(
        "admin/feedback/results.html",
        event=event,
        results=feedback.results(event, str(get_locale())),
        action_form=ButtonForm(),
        is_open=feedback.is_open(event),
        last_day=feedback.last_day(event).isoformat(),
    )


@bp.route("/events/<slug>/feedback.csv")
@organiser_required
def results_csv(slug):
    """The answers as CSV, one row per questionnaire, without names, in no telling order."""
    event = event_or_404(slug)
    response = Response(feedback.answers_csv(event, str(get_locale())), mimetype="text/csv")
    filename = f"{event.slug}-feedback-{utcnow():%Y-%m-%d}.csv"
    name_file(response, filename)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/events/<slug>/feedback/send")
@organiser_required
def send(slug):
    """Mail each attendee their personal questionnaire link (once each)."""
    try:
        count = feedback.send_requests(event_or_404(slug))
    except feedback.EventNotEnded:
        flash(_("Feedback can be asked for once the event has ended."), "error")
    else:
        flash(_("%(count)d attendee(s) will get the questionnaire.", count=count), "success")
    return redirect(url_for(".results", slug=slug))


@bp.route("/events/<slug>/feedback/questions", methods=["GET", "POST"])
@organiser_required
def questions(slug):
    """The questionnaire: its questions, and a form to add one."""
    event = event_or_404(slug)
    items = feedback.ensure_questionnaire(event)
    form = QuestionForm()
    if form.validate_on_submit():
        _save(event, None, form)
        flash(_("The question is added."), "success")
        return redirect(url_for(".questions", slug=slug))
    return form_page(
        "admin/feedback/questions.html",
        event=event,
        items=items,
        form=form,
        confirm_form=ConfirmForm(),
        kind_labels=QuestionForm.kind_labels(),
    )


def _save(event, question, form: QuestionForm) -> FeedbackQuestion:
    return feedback.save_question(
        event,
        question,
        QuestionKind(form.kind.data),
        form.texts(),
        form.options(),
        form.required.data,
        seen=form.seen.data,
    )


@bp.route("/feedback/questions/<int:question_id>", methods=["GET", "POST"])
@organiser_required
def edit_question(question_id):
    """Change a question's kind, texts or choices."""
    question = db.get_or_404(FeedbackQuestion, question_id)
    form = QuestionForm()
    if not form.is_submitted():
        form.load(question)
        form.seen.data = feedback.question_fingerprint(question)
    if form.validate_on_submit():
        try:
            _save(question.event, question, form)
        except feedback.AnsweredQuestion as refused:
            getattr(form, refused.field).errors.append(refused.message)
        except edits.EditConflict as conflict:
            form.mark_conflicts(conflict, question)  # read again: the transaction was undone
            flash(
                _("Someone else saved this question after you opened the page: nothing was saved."),
                "error",
            )
        except feedback.QuestionGone:
            flash(_("This question was removed after you opened the page."), "error")
            return redirect(url_for(".questions", slug=question.event.slug))
        else:
            flash(_("The question is saved."), "success")
            return redirect(url_for(".questions", slug=question.event.slug))
    return form_page(
        "admin/feedback/question.html", event=question.event, question=question, form=form
    )


@bp.post("/feedback/questions/<int:question_id>/delete")
@organiser_required
def delete_question(question_id):
    """Remove a question, and its answers, from the questionnaire once ticked as meant."""
    question = db.get_or_404(FeedbackQuestion, question_id)
    slug = question.event.slug
    if not ConfirmForm().validate_on_submit():
        flash(_("Tick the box to confirm that the question and its answers are removed."), "error")
        return redirect(url_for(".questions", slug=slug))
    feedback.delete_question(question)
    flash(_("The question is removed."), "success")
    return redirect(url_for(".questions", slug=slug))


@bp.route("/registrations/<reference>/feedback")
@organiser_required
def registration_answers(reference):
    """One person's answers: shown only when an organiser opens that registration."""
    registration = registration_or_404(reference)
    event = registration.event
    return render_template(
        "admin/feedback/registration.html",
        registration=registration,
        event=event,
        response=feedback.response_of(registration),
        questions=feedback.questions(event),
        display=feedback.display,
    )
