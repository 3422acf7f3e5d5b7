"""Feedback: a personal link once per attendee, answers changed until closing, anonymous reports."""

import csv
import io
import re
import threading
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import (
    Event,
    FeedbackResponse,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    QuestionKind,
    Registration,
    SkipReason,
    User,
)
from eventreg.services import checkin, feedback, outbox, privacy
from eventreg.services.manage_links import manage_token
from tests.support.after_event import attend, end_event
from tests.support.locks import as_another_request, second_waits_for_first, twice_at_once
from tests.support.mail import smtp_config


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


@pytest.fixture
def ended(make_event, sign_up, smtp):
    """An event that ended yesterday: two attendees (bg, en) and one no-show."""
    event = make_event()
    people = [
        sign_up(event, first_name="Мария", last_name="Иванова", language="bg"),
        sign_up(event, first_name="Ann", last_name="Smith", language="en"),
    ]
    sign_up(event, first_name="Nobody", last_name="Came")
    for registrant in people:
        attend(registrant.registrations[0])
    end_event(event)
    outbox.deliver_all()
    smtp.inbox.wait_for(3)
    smtp.inbox.envelopes.clear()
    return event, people


def link_in(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"http://eventreg\.test(/feedback/\S+)", text).group(1)


def message_to(messages, registrant):
    return next(m for m in messages if m["To"].addresses[0].addr_spec == registrant.email)


def shown_in(page: str) -> str:
    """The questionnaire's fingerprint the page carries (what its choices mean)."""
    return re.search(r'name="shown" value="([^"]*)"', page)[1]


def questions_of(event):
    return {q.position: q for q in feedback.questions(event)}


def test_send_mails_each_attendee_their_link_once(app, smtp, ended):
    event, people = ended
    runner = app.test_cli_runner()

    assert (
        "Queued 2 questionnaire link(s)."
        in runner.invoke(args=["feedback", "send", event.slug]).output
    )
    assert (
        "Queued 0 questionnaire link(s) in all."
        in runner.invoke(args=["feedback", "send", "--due"]).output
    )
    outbox.deliver_all()
    db.session.rollback()

    messages = smtp.inbox.wait_for(2)
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == sorted(
        p.email for p in people
    )
    assert len({link_in(m) for m in messages}) == 2
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds.count(MessageKind.FEEDBACK_REQUEST) == 2


def test_due_sends_for_every_ended_event_and_not_before(app, make_event, sign_up, ended):
    event, _ = ended
    future = make_event()
    attend(sign_up(future).registrations[0])

    sent = feedback.send_due()

    assert sent == {event.slug: 2}
    with pytest.raises(feedback.EventNotEnded):
        feedback.send_requests(future)


def test_default_questionnaire_in_the_persons_language(app, client, smtp, ended):
    event, people = ended
    feedback.send_requests(event)
    outbox.deliver_all()
    bulgarian = message_to(smtp.inbox.wait_for(2), people[0])

    page = client.get(link_in(bulgarian))

    assert page.status_code == 200
    assert [q.kind for q in feedback.questions(event)] == [
        QuestionKind.RATING,
        QuestionKind.RATING,
        QuestionKind.TEXT,
        QuestionKind.TEXT,
    ]
    overall = questions_of(event)[0].texts
    assert overall["bg"] == "Как бихте оценили събитието като цяло?"
    assert overall["bg"] in page.get_data(as_text=True)
    assert bulgarian["Subject"].startswith("Вашата обратна връзка")


def test_link_used_twice_changes_the_one_answer(app, client, smtp, ended):
    event, _ = ended
    feedback.send_requests(event)
    outbox.deliver_all()
    link = link_in(smtp.inbox.wait_for(2)[0])
    q = questions_of(event)

    first = client.post(
        link, data={str(q[0].id): "4", str(q[1].id): "5", str(q[2].id): "More time"}
    )
    second = client.post(
        link, data={str(q[0].id): "2", str(q[1].id): "3", str(q[3].id): "Social clauses"}
    )

    assert first.status_code == second.status_code == 302
    answered = db.session.scalars(
        select(FeedbackResponse).where(FeedbackResponse.submitted_at.is_not(None))
    ).all()
    assert len(answered) == 1
    assert answered[0].answers == {str(q[0].id): 2, str(q[1].id): 3, str(q[3].id): "Social clauses"}


def test_link_after_closing_changes_nothing(app, client, smtp, ended):
    event, people = ended
    feedback.send_requests(event)
    outbox.deliver_all()
    link = link_in(message_to(smtp.inbox.wait_for(2), people[1]))  # English
    q = questions_of(event)
    client.post(link, data={str(q[0].id): "4", str(q[1].id): "4"})
    end_event(event, days_ago=app.config["FEEDBACK_DAYS"] + 1)

    late = client.post(link, data={str(q[0].id): "1", str(q[1].id): "1"})

    assert late.status_code == 410
    assert "closed" in late.get_data(as_text=True)
    (response,) = db.session.scalars(
        select(FeedbackResponse).where(FeedbackResponse.submitted_at.is_not(None))
    ).all()
    assert response.answers == {str(q[0].id): 4, str(q[1].id): 4}
    assert client.get(link).status_code == 410
    assert feedback.send_requests(event) == 0


def test_bad_answers_are_refused_with_a_message_and_change_nothing(app, client, ended):
    event, _ = ended
    feedback.send_requests(event)
    response = db.session.scalars(select(FeedbackResponse)).first()
    q = questions_of(event)

    missing = client.post(f"/feedback/{response.token}", data={str(q[0].id): "4"})
    out_of_range = client.post(
        f"/feedback/{response.token}", data={str(q[0].id): "9", str(q[1].id): "1"}
    )

    assert missing.status_code == out_of_range.status_code == 422
    assert "Please answer this question." in missing.get_data(as_text=True)
    assert "Choose a rating from 1 to 5." in out_of_range.get_data(as_text=True)
    db.session.refresh(response)
    assert response.answers == {} and not response.is_answered
    assert client.get("/feedback/forged-token").status_code == 404


def answer_as(client, event, token, overall, useful, improve=None):
    q = questions_of(event)
    data = {str(q[0].id): str(overall), str(q[1].id): str(useful)}
    if improve:
        data[str(q[2].id)] = improve
    assert client.post(f"/feedback/{token}", data=data).status_code == 302


def test_results_show_averages_and_texts_but_not_who_said_what(app, client, auth, make_user, ended):
    event, people = ended
    feedback.send_requests(event)
    tokens = db.session.scalars(select(FeedbackResponse.token).order_by(FeedbackResponse.id)).all()
    answer_as(client, event, tokens[0], 5, 4, '=HYPERLINK("http://evil")')
    answer_as(client, event, tokens[1], 3, 2, "Longer sessions")
    make_user("organiser")
    auth.login("organiser@example.org")

    page = client.get(f"/admin/events/{event.slug}/feedback").get_data(as_text=True)

    assert "<strong>4.0</strong> / 5" in page  # the average of 5 and 3
    bulgarian = client.get(
        f"/admin/events/{event.slug}/feedback", headers={"Accept-Language": "bg"}
    )
    assert "Какво да подобрим?" in bulgarian.text  # the questions in the reader's language
    assert "Longer sessions" in page
    for registrant in people:
        assert registrant.last_name not in page and registrant.email not in page
    exported = client.get(f"/admin/events/{event.slug}/feedback.csv")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert len(rows) == 3
    cells = [cell for row in rows for cell in row]
    assert '\'=HYPERLINK("http://evil")' in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    for registrant in people:
        assert (
            registrant.email not in exported.data.decode()
            and registrant.last_name not in exported.data.decode()
        )
    one = client.get(f"/admin/registrations/{people[1].registrations[0].reference}/feedback")
    assert "Longer sessions" in one.get_data(as_text=True)
    (copy,) = privacy.export_data(people[1])["feedback"]
    assert "Longer sessions" in copy["answers"].values()


def test_organisers_add_a_choice_question_with_translations(app, client, auth, make_user, ended):
    event, _ = ended
    make_user("organiser")
    auth.login("organiser@example.org")
    url = f"/admin/events/{event.slug}/feedback/questions"

    uneven = client.post(
        url,
        data={
            "kind": "multiple_choice",
            "text_en": "Which sessions?",
            "options_en": "Visits\nTalks",
            "options_it": "Visite",
        },
    )
    assert uneven.status_code == 422
    assert (
        client.post(
            url,
            data={
                "kind": "multiple_choice",
                "text_en": "Which sessions?",
                "text_it": "Quali sessioni?",
                "options_en": "Visits\nTalks",
                "options_it": "Visite\nInterventi",
            },
        ).status_code
        == 302
    )

    question = feedback.questions(event)[-1]
    assert question.kind is QuestionKind.MULTIPLE_CHOICE
    assert question.options_in("it") == ["Visite", "Interventi"]
    assert question.text_in("bg") == "Which sessions?"  # English until translated
    feedback.send_requests(event)
    token = db.session.scalars(select(FeedbackResponse.token)).first()
    q = questions_of(event)
    answers = {str(q[0].id): "4", str(q[1].id): "4", str(question.id): ["0", "1"]}
    shown = shown_in(client.get(f"/feedback/{token}").text)  # what the choices meant there
    assert client.post(f"/feedback/{token}", data=answers | {"shown": shown}).status_code == 302
    results = feedback.results(event, "en")
    assert results.questions[-1].counts == [("Visits", 1), ("Talks", 1)]


def test_feedback_pages_are_for_organisers(app, client, auth, make_user, ended):
    event, people = ended
    reference = people[0].registrations[0].reference
    urls = [
        f"/admin/events/{event.slug}/feedback",
        f"/admin/events/{event.slug}/feedback.csv",
        f"/admin/events/{event.slug}/feedback/questions",
        f"/admin/registrations/{reference}/feedback",
    ]
    for url in urls:
        assert client.get(url).status_code == 302
    make_user("checkin", "door@example.org")
    auth.login("door@example.org")
    for url in urls:
        assert client.get(url).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(FeedbackResponse)) == 0


def test_organisers_change_a_question_text_per_language(app, client, auth, make_user, ended):
    event, _ = ended
    make_user("organiser")
    auth.login("organiser@example.org")
    client.get(f"/admin/events/{event.slug}/feedback/questions")  # sets up the defaults
    question = feedback.questions(event)[2]
    url = f"/admin/feedback/questions/{question.id}"
    form = client.get(url).get_data(as_text=True)
    assert "What should we improve?" in form

    saved = client.post(
        url,
        data={
            "kind": "text",
            "text_en": "What would you change?",
            "text_sv": "Vad skulle du ändra?",
        },
    )

    assert saved.status_code == 302
    db.session.refresh(question)
    assert question.text_in("en") == "What would you change?"
    assert question.text_in("sv") == "Vad skulle du ändra?"
    assert question.text_in("bg") == "What would you change?"  # not given: English
    empty = client.post(url, data={"kind": "text", "text_en": ""})
    assert empty.status_code == 422
    db.session.refresh(question)
    assert question.text_in("en") == "What would you change?"


def test_a_question_people_answered_keeps_what_their_answers_mean(
    app, client, auth, make_user, ended
):
    """A choice is stored as its place in the list: once answered, the kind stays and the
    choices may be reworded or added to at the end, never moved or removed."""
    event, _ = ended
    make_user("organiser")
    auth.login("organiser@example.org")
    url = f"/admin/events/{event.slug}/feedback/questions"
    choice = {"kind": "single_choice", "text_en": "Again?", "options_en": "Yes\nNo\nMaybe"}
    assert client.post(url, data=choice).status_code == 302
    question = feedback.questions(event)[-1]
    feedback.send_requests(event)
    token = db.session.scalars(select(FeedbackResponse.token)).first()
    q = questions_of(event)
    answer = {str(q[0].id): "4", str(q[1].id): "4", str(question.id): "0"}
    answer["shown"] = shown_in(client.get(f"/feedback/{token}").text)
    assert client.post(f"/feedback/{token}", data=answer).status_code == 302
    edit = f"/admin/feedback/questions/{question.id}"

    for change, message in (
        ({"kind": "text"}, "its kind stays"),
        ({"options_en": "Maybe\nYes\nNo"}, "not removed or reordered"),
        ({"options_en": "Yes\nNo"}, "not removed or reordered"),
    ):
        refused = client.post(edit, data=choice | change)
        assert refused.status_code == 422 and message in refused.text, change
    db.session.refresh(question)
    assert question.kind is QuestionKind.SINGLE_CHOICE
    assert question.options_in("en") == ["Yes", "No", "Maybe"]

    reworded = choice | {"options_en": "Yes, surely\nNo\nMaybe\nOnly online"}
    assert client.post(edit, data=reworded).status_code == 302
    counts = feedback.results(event, "en").questions[-1].counts
    assert counts[0] == ("Yes, surely", 1)  # the answer still means what it meant

    question_id = question.id
    remove = f"/admin/feedback/questions/{question_id}/delete"
    client.post(remove)  # one slip of a click
    assert feedback.questions(event)[-1].id == question_id
    client.post(remove, data={"confirm": "y"})
    assert question_id not in {q.id for q in feedback.questions(event)}


def test_after_the_event_the_manage_page_offers_the_questionnaire_not_the_ticket(
    app, client, ended
):
    """Whoever lost the e-mail still finds the questionnaire; the door is behind them."""
    event, people = ended
    manage = f"/manage/{manage_token(people[1])}"
    page = client.get(manage).text
    assert "show this QR code at the door" not in page  # ended: no ticket to show
    assert "Tell us what you thought of the event" not in page  # not invited yet
    feedback.send_requests(event)
    page = client.get(manage).text
    token = feedback.response_of(people[1].registrations[0]).token
    assert f'href="/feedback/{token}"' in page and "Tell us what you thought" in page


def test_the_link_says_until_when_in_the_european_way_and_the_events_own_date(app, smtp, ended):
    """It said "Until November 10, 2027", the US way, and the closing moment's UTC date."""
    event, people = ended
    feedback.send_requests(event)
    outbox.deliver_all()
    english = message_to(smtp.inbox.wait_for(2), people[1])
    text = english.get_body(("plain",)).get_content()
    last = feedback.last_day(event)
    assert f"Until {last.day} {last:%B %Y} you can change your answers." in text
    # And so it is, all that day in the event's zone (it closed mid-afternoon), not the next.
    evening = datetime.combine(last, time(23, 30), tzinfo=event.zone)
    assert feedback.is_open(event, evening)
    assert not feedback.is_open(event, evening + timedelta(hours=1))


@pytest.mark.postgresql_only  # SQLite's BEGIN IMMEDIATE runs the two one after the other
def test_two_sends_at_once_invite_each_attendee_once(app, ended, monkeypatch):
    """An organiser's click while the hourly `feedback send --due` runs: the second waits for
    the first and finds everyone invited, instead of failing on the unique invitation."""
    event, _people = ended
    event_id = event.id
    db.session.rollback()

    def send():
        return feedback.send_requests(db.session.get(Event, event_id))

    counts, errors = twice_at_once(app, monkeypatch, feedback, send)
    assert errors == [] and sorted(counts) == [0, 2]
    invited = select(func.count()).where(OutboxMessage.kind == MessageKind.FEEDBACK_REQUEST)
    assert db.session.scalar(invited) == 2


def test_a_check_in_undone_withdraws_the_questionnaire_unless_answered(
    app, client, smtp, ended, make_user
):
    """Door staff checked the wrong Ann in; the organiser undoes it after the event. Her link,
    still queued, is not sent and does not open; checked in after all, she is invited again.
    Мария, who had answered, keeps her answers when her check-in is undone."""
    event, (maria, ann) = ended
    organiser = make_user("organiser")
    assert feedback.send_requests(event) == 2
    q = questions_of(event)
    maria_link = f"/feedback/{feedback.response_of(maria.registrations[0]).token}"
    ann_link = f"/feedback/{feedback.response_of(ann.registrations[0]).token}"
    answers = {str(q[0].id): "4", str(q[1].id): "5", str(q[2].id): "More time"}
    assert client.post(maria_link, data=answers).status_code == 302

    for registrant in (maria, ann):
        checkin.undo_check_in(registrant.registrations[0], staff=organiser)
    db.session.rollback()
    taken_back = db.session.scalar(
        select(OutboxMessage.status).where(
            OutboxMessage.registration_id == ann.registrations[0].id,
            OutboxMessage.kind == MessageKind.FEEDBACK_REQUEST,
        )
    )
    assert taken_back is MessageStatus.SKIPPED  # by the undo, under the outbox row's lock
    outbox.deliver_all()
    db.session.rollback()

    (sent,) = smtp.inbox.wait_for(1)
    assert sent["To"].addresses[0].addr_spec == maria.email
    skipped = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.registration_id == ann.registrations[0].id,
            OutboxMessage.kind == MessageKind.FEEDBACK_REQUEST,
        )
    )
    assert skipped.skip_reason is SkipReason.FEEDBACK_WITHDRAWN
    assert client.get(ann_link).status_code == 404
    assert client.get(maria_link).status_code == 200
    assert feedback.response_of(maria.registrations[0]).answers == {
        str(q[0].id): 4,
        str(q[1].id): 5,
        str(q[2].id): "More time",
    }

    smtp.inbox.envelopes.clear()
    attend(ann.registrations[0])
    assert feedback.send_requests(event) == 1
    outbox.deliver_all()
    (again,) = smtp.inbox.wait_for(1)
    assert again["To"].addresses[0].addr_spec == ann.email
    assert link_in(again) != ann_link and client.get(link_in(again)).status_code == 200


def test_answers_sent_as_the_questionnaire_is_withdrawn_change_nothing(app, ended, make_user):
    """The page was open when the organiser undid the check-in: saving finds no questionnaire
    (and says so, as the link does now) instead of failing on the row that went."""
    event, (_maria, ann) = ended
    feedback.send_requests(event)
    response = feedback.response_of(ann.registrations[0])
    q = questions_of(event)
    shown = feedback.answers_fingerprint(list(q.values()))
    registration_id, staff_id = ann.registrations[0].id, make_user("organiser").id

    def undo():
        checkin.undo_check_in(
            db.session.get(Registration, registration_id), staff=db.session.get(User, staff_id)
        )

    errors: list[str] = []
    thread = as_another_request(app, undo, errors)
    thread.start()
    thread.join()
    assert errors == []
    with pytest.raises(feedback.FeedbackWithdrawn):
        feedback.save_answers(response, {str(q[0].id): "4"}, shown)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(FeedbackResponse)) == 1


@pytest.mark.postgresql_only  # SQLite's BEGIN IMMEDIATE runs the two one after the other
def test_two_organisers_opening_the_questions_at_once_get_one_questionnaire(
    app, ended, monkeypatch
):
    """Both saw no questions yet and both added the defaults: every question twice."""
    event, _people = ended
    event_id = event.id
    adding, go_on = threading.Event(), threading.Event()
    add_defaults = feedback._add_defaults_if_missing

    def adding_slowly(event):
        add_defaults(event)
        if not adding.is_set():  # the first: the defaults written, not yet committed
            adding.set()
            assert go_on.wait(10)

    monkeypatch.setattr(feedback, "_add_defaults_if_missing", adding_slowly)

    def open_the_questions():
        feedback.ensure_questionnaire(db.session.get(Event, event_id))

    errors = second_waits_for_first(app, open_the_questions, open_the_questions, adding, go_on)
    assert errors == []
    db.session.rollback()
    assert len(feedback.questions(event)) == len(feedback.DEFAULT_QUESTIONS)
