"""Feedback: the personal questionnaire, results and questions for organisers, the CSV."""

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, format_date
from flask_babel import gettext as _

from ..access import organiser_required
from ..extensions import db
from ..forms import ButtonForm
from ..lookups import event_or_404
from ..models import FeedbackQuestion, QuestionKind, Registration, utcnow
from ..rate_limits import manage_limit
from ..services import feedback
from .forms import QuestionForm

bp = Blueprint("feedback", __name__)


@bp.app_template_filter("iso_date")
def iso_date(value: str) -> str:
    """A date stored as ISO text (in an e-mail's parameters), in the reader's language."""
    return format_date(date.fromisoformat(value), "long")


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/feedback/<token>", methods=["GET", "POST"])
@manage_limit
def answer(token):
    """A person's questionnaire: answer, and change the answers until it closes."""
    response = feedback.response_for_token(token) or abort(404)
    form = ButtonForm()
    if request.method == "GET":
        return _questionnaire(response, form, response.answers)
    if not form.validate_on_submit():
        abort(400)
    raw = {key: _posted(key) for key in request.form if key.isdigit()}
    try:
        feedback.save_answers(response, raw)
    except feedback.FeedbackClosed:
        return _questionnaire(response, form, response.answers)
    except feedback.InvalidAnswers as invalid:
        return _questionnaire(response, form, raw, invalid.errors, status=422)
    flash(_("Thank you: your answers are saved."), "success")
    return redirect(url_for(".answer", token=token))


def _questionnaire(response, form, answers, errors=None, status=200) -> Response:
    """The questionnaire in the person's language (or the one they picked on the site)."""
    event = response.registration.event
    is_open = feedback.is_open(event)
    language = session.get("language") or response.registration.registrant.language
    with force_locale(language):
        page = render_template(
            "feedback/answer.html",
            event=event,
            response=response,
            questions=feedback.questions(event),
            answers=answers,
            errors=errors or {},
            form=form,
            is_open=is_open,
            closes_at=feedback.closes_at(event),
            language=language,
        )
    return _private(Response(page, status=status if is_open else 410))


def _posted(key: str):
    values = request.form.getlist(key)
    return values if len(values) > 1 else values[0]


def _event(slug):
    return event_or_404(slug)


@bp.route("/admin/events/<slug>/feedback")
@organiser_required
def results(slug):
    """Counts, averages and charts of the answers, and the free texts: never who said what."""
    event = _event(slug)
    return render_template(
        "feedback/results.html",
        event=event,
        results=feedback.results(event, "en"),
        action_form=ButtonForm(),
        is_open=feedback.is_open(event),
        closes_at=feedback.closes_at(event),
    )


@bp.route("/admin/events/<slug>/feedback.csv")
@organiser_required
def results_csv(slug):
    """The answers as CSV, one row per questionnaire, without names, in no telling order."""
    event = _event(slug)
    response = Response(feedback.answers_csv(event, "en"), mimetype="text/csv; charset=utf-8")
    filename = f"{event.slug}-feedback-{utcnow():%Y-%m-%d}.csv"
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/admin/events/<slug>/feedback/send")
@organiser_required
def send(slug):
    """Mail each attendee their personal questionnaire link (once each)."""
    event = _event(slug)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        count = feedback.send_requests(event)
    except feedback.EventNotEnded:
        flash(_("Feedback can be asked for once the event has ended."), "error")
    else:
        flash(_("%(count)d attendee(s) will get the questionnaire.", count=count), "success")
    return redirect(url_for(".results", slug=slug))


@bp.route("/admin/events/<slug>/feedback/questions", methods=["GET", "POST"])
@organiser_required
def questions(slug):
    """The questionnaire: its questions, and a form to add one."""
    event = _event(slug)
    items = feedback.ensure_questionnaire(event)
    form = QuestionForm()
    if form.validate_on_submit():
        _save(event, None, form)
        flash(_("The question is added."), "success")
        return redirect(url_for(".questions", slug=slug))
    return render_template(
        "feedback/questions.html",
        event=event,
        items=items,
        form=form,
        action_form=ButtonForm(),
        kind_labels=QuestionForm.kind_labels(),
    ), (422 if form.errors else 200)


def _question_or_404(question_id) -> FeedbackQuestion:
    return db.get_or_404(FeedbackQuestion, question_id)


def _save(event, question, form: QuestionForm) -> FeedbackQuestion:
    return feedback.save_question(
        event,
        question,
        QuestionKind(form.kind.data),
        form.texts(),
        form.options(),
        form.required.data,
    )


@bp.route("/admin/feedback/questions/<int:question_id>", methods=["GET", "POST"])
@organiser_required
def edit_question(question_id):
    """Change a question's kind, texts or choices."""
    question = _question_or_404(question_id)
    form = QuestionForm()
    if not form.is_submitted():
        form.load(question)
    if form.validate_on_submit():
        _save(question.event, question, form)
        flash(_("The question is saved."), "success")
        return redirect(url_for(".questions", slug=question.event.slug))
    return render_template(
        "feedback/question.html", event=question.event, question=question, form=form
    ), (422 if form.errors else 200)


@bp.post("/admin/feedback/questions/<int:question_id>/delete")
@organiser_required
def delete_question(question_id):
    """Remove a question from the questionnaire."""
    question = _question_or_404(question_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    slug = question.event.slug
    feedback.delete_question(question)
    flash(_("The question is removed."), "success")
    return redirect(url_for(".questions", slug=slug))


@bp.route("/admin/registrations/<reference>/feedback")
@organiser_required
def registration_answers(reference):
    """One person's answers: shown only when an organiser opens that registration."""
    registration = db.first_or_404(
        db.select(Registration).where(Registration.reference == reference)
    )
    event = registration.event
    return render_template(
        "feedback/registration.html",
        registration=registration,
        event=event,
        response=feedback.response_of(registration),
        questions=feedback.questions(event),
        display=feedback.display,
    )
