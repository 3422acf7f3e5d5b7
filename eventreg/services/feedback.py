"""Feedback after an event: the questionnaire, personal links sent once, answers and results."""

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from ..config import LANGUAGES
from ..database import for_share, lock, locking, write_transaction
from ..extensions import db
from ..models import (
    Event,
    FeedbackQuestion,
    FeedbackResponse,
    MessageKind,
    OutboxMessage,
    QuestionKind,
    Registration,
    SkipReason,
    utcnow,
)
from . import edits
from .events import EventNotEnded
from .exports import neutralise
from .outbox import enqueue, replace_queued

DEFAULT_QUESTIONS = [
    (QuestionKind.RATING, _l("Overall, how would you rate the event?"), True),
    (QuestionKind.RATING, _l("How useful was the event for your work?"), True),
    (QuestionKind.TEXT, _l("What should we improve?"), False),
    (QuestionKind.TEXT, _l("Which topics should we follow up on?"), False),
]
RATINGS = range(1, 6)


class FeedbackClosed(Exception):
    """The questionnaire closed FEEDBACK_DAYS after the event."""


class FeedbackWithdrawn(Exception):
    """The questionnaire was withdrawn (the check-in undone) after its page was opened."""


class QuestionnaireChanged(Exception):
    """Questions an organiser changed after the person opened the page (``changed``, by id):
    their answers might now mean another choice."""

    def __init__(self, changed: list[int]) -> None:
        super().__init__(changed)
        self.changed = changed


class InvalidAnswers(Exception):
    """Answers that do not fit the questions; ``errors`` maps question ids to messages."""

    def __init__(self, errors: dict[int, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def in_every_language(text) -> dict[str, str]:
    """A lazy (translatable) text rendered in each of the site's languages."""
    texts = {}
    for language in LANGUAGES:
        with force_locale(language):
            texts[language] = str(text)
    return texts


def last_day(event: Event) -> date:
    """The last day, in the event's zone, the questionnaire takes answers: FEEDBACK_DAYS after
    the event's last day (an evening ending at midnight ends on its own). The e-mail says
    "until" that date, so it closes at the day's end."""
    return event.local_last_date + timedelta(days=current_app.config["FEEDBACK_DAYS"])


def closes_at(event: Event) -> datetime:
    """The moment the questionnaire closes: midnight after ``last_day``, in the event's zone."""
    return datetime.combine(last_day(event) + timedelta(days=1), time(), tzinfo=event.zone)


def is_open(event: Event, now: datetime | None = None) -> bool:
    """Answers are taken from the end of the event until the questionnaire closes."""
    now = now or utcnow()
    return event.has_ended(now) and now < closes_at(event)


def questions(event: Event) -> list[FeedbackQuestion]:
    """The event's questions in order (none until the questionnaire is first set up)."""
    return list(db.session.scalars(_questions_of(event)))


def _questions_of(event: Event) -> Select:
    return (
        select(FeedbackQuestion)
        .where(FeedbackQuestion.event_id == event.id)
        .order_by(FeedbackQuestion.position, FeedbackQuestion.id)
    )


def ensure_questionnaire(event: Event) -> list[FeedbackQuestion]:
    """The event's questions, set up with the default questionnaire when it has none yet.
    The event is locked first: two organisers opening the page at once, or `feedback send`
    meanwhile, set it up once."""
    with write_transaction():
        _add_defaults_if_missing(lock(event))
    return questions(event)


def _add_defaults_if_missing(event: Event) -> None:
    if questions(event):
        return
    for position, (kind, text, required) in enumerate(DEFAULT_QUESTIONS):
        question = FeedbackQuestion(
            event_id=event.id, position=position, kind=kind, required=required
        )
        question.texts, question.options = in_every_language(text), []
        db.session.add(question)
    db.session.flush()


def save_question(
    event: Event,
    question: FeedbackQuestion | None,
    kind: QuestionKind,
    texts: dict[str, str],
    options: list[dict[str, str]],
    required: bool,
    seen: dict[str, str] | None = None,
) -> FeedbackQuestion:
    """Add a question at the end, or change one. Once people answered it, its kind stays and
    its choices may be reworded or added to at the end only: a choice is stored as its place
    in the list, so a new kind, or a choice moved or removed, would change what people said.

    ``seen``: the fingerprint of the question as the edit page showed it (``question_fingerprint``);
    then only what the editor changed is saved, and edits.EditConflict refuses a change to what
    someone else saved meanwhile (nothing is saved). QuestionGone: it was removed meanwhile.
    """
    submitted = _question_values(kind, texts, options, required)
    with write_transaction():
        if question is None:
            last = db.session.scalar(
                select(func.max(FeedbackQuestion.position)).where(
                    FeedbackQuestion.event_id == event.id
                )
            )
            question = FeedbackQuestion(event_id=event.id, position=(last or 0) + 1)
            db.session.add(question)
            values = submitted
        else:
            # Locked before the answers are counted: an answer being saved holds the question
            # (``save_answers``), so none slips in between the count and the change.
            question = _locked_question(question.id)
            stored = question_values(question)
            values = stored | edits.merge(seen, stored, submitted, groups=[_CHOICES_GO_TOGETHER])
            if answer_count(question):
                _check_answers_kept(question, values["kind"], values["options"])
        question.kind = values["kind"]
        question.texts = {
            code: values[f"text.{code}"] for code in LANGUAGES if values[f"text.{code}"]
        }
        question.options = values["options"] if values["kind"] in _CHOICE_KINDS else []
        question.required = values["required"]
    return question


class QuestionGone(LookupError):
    """The question was removed after the page was opened."""


def question_values(question: FeedbackQuestion) -> dict[str, Any]:
    """A question as its edit form shows it, field by field (see ``edits``)."""
    return _question_values(question.kind, question.texts, question.options, question.required)


def question_fingerprint(question: FeedbackQuestion) -> dict[str, str]:
    return edits.fingerprint(question_values(question))


def _question_values(
    kind: QuestionKind, texts: dict[str, str], options: list[dict[str, str]], required: bool
) -> dict[str, Any]:
    return {
        "kind": kind,
        "required": required,
        "options": options if kind in _CHOICE_KINDS else [],
        **{f"text.{code}": texts.get(code) or "" for code in LANGUAGES},
    }


# A question's kind and its choices are decided together (a choice question needs choices).
_CHOICES_GO_TOGETHER = ("kind", "options")


def _locked_question(question_id: int) -> FeedbackQuestion:
    found = db.session.scalar(
        locking(select(FeedbackQuestion).where(FeedbackQuestion.id == question_id))
    )
    if found is None:
        raise QuestionGone(question_id)
    return found


class AnsweredQuestion(ValueError):
    """The change would alter answers already given; ``field`` is what to correct."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def answer_count(question: FeedbackQuestion) -> int:
    """How many people answered the question."""
    key = str(question.id)
    given = db.session.scalars(
        select(FeedbackResponse.answers)
        .join(FeedbackResponse.registration)
        .where(Registration.event_id == question.event_id)
    )
    return sum(1 for answers in given if answers and key in answers)


def _check_answers_kept(
    question: FeedbackQuestion, kind: QuestionKind, options: list[dict[str, str]]
) -> None:
    if kind is not question.kind:
        raise AnsweredQuestion(
            "kind",
            _("People have answered this question: its kind stays. Add a new question instead."),
        )
    old = [option.get("en") for option in question.options]
    new = [option.get("en") for option in options]
    moved = any(text in new and new.index(text) != place for place, text in enumerate(old))
    if len(new) < len(old) or moved:
        raise AnsweredQuestion(
            "options_en",
            _(
                "People have answered this question: its choices can be reworded, or added to "
                "at the end, but not removed or reordered."
            ),
        )


def delete_question(question: FeedbackQuestion) -> None:
    """Remove the question and the answers given to it."""
    key = str(question.id)
    with write_transaction():
        # The answers first, then the question, as saving answers holds them (no circle).
        for response in db.session.scalars(
            locking(
                select(FeedbackResponse)
                .join(FeedbackResponse.registration)
                .where(Registration.event_id == question.event_id)
                .order_by(FeedbackResponse.id)
            )
        ):
            if response.answers and key in response.answers:
                response.answers = {k: v for k, v in response.answers.items() if k != key}
        found = db.session.get(FeedbackQuestion, question.id)
        if found is not None:
            db.session.delete(found)


_CHOICE_KINDS = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)


def send_requests(event: Event, now: datetime | None = None) -> int:
    """Mail each attendee of an ended event their personal questionnaire link, once."""
    now = now or utcnow()
    if not event.has_ended(now):
        raise EventNotEnded(event.slug)
    if now >= closes_at(event):
        return 0
    with write_transaction():
        # The event first: a second send (a click while `feedback send --due` runs) waits
        # here, then finds everyone invited, instead of inviting the same attendees again.
        event = lock(event)
        _add_defaults_if_missing(event)
        invited = select(FeedbackResponse.registration_id)
        due = db.session.scalars(
            locking(
                select(Registration)
                .where(Registration.event_id == event.id, Registration.has_attended)
                .where(Registration.id.not_in(invited))
                .order_by(Registration.id)
            )
        ).all()
        count = 0
        for registration in due:
            if not registration.registrant.email:
                continue  # anonymised
            response = FeedbackResponse(registration=registration, answers={}, invited_at=now)
            db.session.add(response)
            db.session.flush()
            enqueue(
                MessageKind.FEEDBACK_REQUEST,
                registration,
                token=response.token,
                closes_on=last_day(event).isoformat(),
            )
            count += 1
    return count


def withdraw_request(registration: Registration) -> None:
    """Take back the questionnaire of someone whose check-in was undone and who no longer
    counts as attending, unless they answered it: its link stops working, its e-mail is taken
    back if it has not left (one a sender is handing over has), and a later check-in invites
    them again. Inside the undo's ``write_transaction``; the row is locked first, so answers
    being saved are kept."""
    if registration.has_attended:
        return
    response = db.session.scalar(
        locking(select(FeedbackResponse).where(FeedbackResponse.registration_id == registration.id))
    )
    if response is None or response.is_answered:
        return
    db.session.delete(response)
    replace_queued(
        MessageKind.FEEDBACK_REQUEST,
        OutboxMessage.registration_id == registration.id,
        reason=SkipReason.FEEDBACK_WITHDRAWN,
    )


def send_due(now: datetime | None = None) -> dict[str, int]:
    """Send the links of every event that ended and whose questionnaire is still open."""
    now = now or utcnow()
    oldest = now - timedelta(days=current_app.config["FEEDBACK_DAYS"])
    ended = db.session.scalars(
        select(Event).where(Event.ends_at <= now, Event.ends_at > oldest).order_by(Event.ends_at)
    ).all()
    return {event.slug: send_requests(event, now) for event in ended if not event.is_cancelled}


def response_for_token(token: str) -> FeedbackResponse | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(FeedbackResponse).where(FeedbackResponse.token == token))


def answers_fingerprint(items: list[FeedbackQuestion]) -> dict[str, str]:
    """What the questionnaire page's answers mean, question by question (see ``save_answers``)."""
    return edits.fingerprint(_meanings(items))


def _meanings(items: list[FeedbackQuestion]) -> dict[str, object]:
    return {f"q{question.id}": [question.kind, question.options] for question in items}


def check_answers(items: list[FeedbackQuestion], raw: dict[str, object]) -> dict[str, object]:
    """Answers as stored ({question id: value}); InvalidAnswers with a message per question."""
    answers, errors = {}, {}
    for question in items:
        value = raw.get(str(question.id))
        if question.is_rating:
            value = int(value) if str(value or "").isdigit() else None
            if value is not None and value not in RATINGS:
                errors[question.id] = str(_l("Choose a rating from 1 to 5."))
                continue
        elif question.is_text:
            value = str(value or "").strip()[:4000] or None
        elif question.is_multiple:
            picked = value if isinstance(value, list) else [] if value is None else [value]
            value = sorted({int(v) for v in picked if str(v).isdigit()}) or None
            if value and max(value) >= len(question.options):
                errors[question.id] = str(_l("Not a valid choice."))
                continue
        else:
            value = int(value) if str(value or "").isdigit() else None
            if value is not None and value >= len(question.options):
                errors[question.id] = str(_l("Not a valid choice."))
                continue
        if value is None:
            if question.required:
                errors[question.id] = str(_l("Please answer this question."))
            continue
        answers[str(question.id)] = value
    if errors:
        raise InvalidAnswers(errors)
    return answers


def save_answers(
    response: FeedbackResponse, raw: dict[str, object], shown: dict[str, str]
) -> FeedbackResponse:
    """Record (or change) a person's answers while the questionnaire is open.

    A choice is stored as its place in the list, so the answers are taken only as meant:
    ``shown``, the questionnaire's fingerprint as the page showed it (``answers_fingerprint``),
    must still hold for every question, and name every choice question, else
    QuestionnaireChanged (nothing is saved). The questions are held until the commit: an
    organiser's change waits, and then counts these answers."""
    event = response.registration.event
    with write_transaction():
        response = db.session.scalars(
            locking(select(FeedbackResponse).where(FeedbackResponse.id == response.id))
        ).one_or_none()
        if response is None:
            raise FeedbackWithdrawn(event.slug)
        if not is_open(event):
            raise FeedbackClosed(event.slug)
        items = list(
            db.session.scalars(
                for_share(_questions_of(event)).execution_options(populate_existing=True)
            )
        )
        meanings = _meanings(items)
        changed = edits.changed_since(shown, meanings) + [
            name
            for name, (kind, _options) in meanings.items()
            if name not in shown and kind in _CHOICE_KINDS  # a page without it, or an older one
        ]
        if changed:
            raise QuestionnaireChanged([int(name.removeprefix("q")) for name in changed])
        response.answers = check_answers(items, raw)
        now = utcnow()
        response.submitted_at = response.submitted_at or now
        response.updated_at = now
    return response


@dataclass
class QuestionResult:
    """What the answers to one question add up to: never who gave which answer."""

    question: FeedbackQuestion
    answered: int = 0
    counts: list[tuple[str, int]] = field(default_factory=list)  # (label, count) for charts
    average: float | None = None
    texts: list[str] = field(default_factory=list)  # sorted, so no order betrays a person

    @property
    def extent(self) -> int:
        return max([count for _, count in self.counts] + [1])


@dataclass
class Results:
    invited: int
    answered: int
    questions: list[QuestionResult]


def results(event: Event, language: str) -> Results:
    """Counts, averages, distributions and free texts of the event's answers."""
    responses = db.session.scalars(
        select(FeedbackResponse)
        .join(FeedbackResponse.registration)
        .where(Registration.event_id == event.id)
    ).all()
    answered = [r.answers for r in responses if r.is_answered]
    summary = []
    for question in questions(event):
        values = [a[str(question.id)] for a in answered if str(question.id) in a]
        result = QuestionResult(question, answered=len(values))
        if question.is_rating:
            tally = Counter(values)
            result.counts = [(str(n), tally[n]) for n in RATINGS]
            result.average = round(sum(values) / len(values), 2) if values else None
        elif question.is_choice:
            picks = Counter(
                v for value in values for v in (value if isinstance(value, list) else [value])
            )
            labels = question.options_in(language)
            result.counts = [(label, picks[i]) for i, label in enumerate(labels)]
        else:
            result.texts = sorted(values, key=str.casefold)
        summary.append(result)
    return Results(invited=len(responses), answered=len(answered), questions=summary)


def open_link_token(registration: Registration) -> str | None:
    """The token of the person's questionnaire link while it takes answers (for the manage
    page, when the e-mail is lost); None when not invited or closed."""
    if not is_open(registration.event):
        return None
    response = response_of(registration)
    return response.token if response is not None else None


def response_of(registration: Registration) -> FeedbackResponse | None:
    """One registration's answers, for the organiser who opens that registration."""
    return db.session.scalar(
        select(FeedbackResponse).where(FeedbackResponse.registration_id == registration.id)
    )


def answer_rows(event: Event, language: str):
    """Header and one row per answered questionnaire, without anything that identifies a person."""
    items = questions(event)
    yield [q.text_in(language) for q in items]
    rows = []
    for response in db.session.scalars(
        select(FeedbackResponse)
        .join(FeedbackResponse.registration)
        .where(Registration.event_id == event.id, FeedbackResponse.submitted_at.is_not(None))
    ):
        rows.append([display(q, response.answers.get(str(q.id)), language) for q in items])
    yield from sorted(rows)  # not in the order people answered


def display(question: FeedbackQuestion, value, language: str) -> str:
    """An answer as text."""
    if value is None:
        return ""
    if question.is_choice:
        labels = question.options_in(language)
        picked = value if isinstance(value, list) else [value]
        return "; ".join(labels[i] for i in picked if i < len(labels))
    return str(value)


def answers_csv(event: Event, language: str) -> str:
    """The answers as CSV (UTF-8 with BOM, every field quoted, formulas neutralised)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    for row in answer_rows(event, language):
        writer.writerow([neutralise(cell) for cell in row])
    return buffer.getvalue()


def export_of(registrations: list[Registration]) -> list[dict]:
    """A person's questionnaires and answers, for the copy of their data."""
    found = db.session.scalars(
        select(FeedbackResponse).where(
            FeedbackResponse.registration_id.in_([r.id for r in registrations])
        )
    ).all()
    exported = []
    for response in found:
        event = response.registration.event
        exported.append(
            {
                "registration": response.registration.reference,
                "invited_at": response.invited_at.isoformat(),
                "answered_at": response.updated_at.isoformat() if response.updated_at else None,
                "answers": {
                    q.text_in("en"): display(q, response.answers.get(str(q.id)), "en")
                    for q in questions(event)
                    if str(q.id) in response.answers
                },
            }
        )
    return exported
