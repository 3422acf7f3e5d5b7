"""Changes to the questionnaire that meet: two organisers editing one question, a question
changed while people are answering it. A choice is stored as its place in the list, so an
answer must never be taken against choices other than those the person saw."""

import re
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from eventreg.extensions import db
from eventreg.models import FeedbackQuestion, FeedbackResponse, QuestionKind
from eventreg.services import feedback
from tests.support.after_event import attend, end_event
from tests.support.database import migrated_from
from tests.support.factories import AuthActions
from tests.support.locks import someone_waits_for_a_lock, wait_until
from tests.support.mail import smtp_config
from tests.test_feedback import questions_of, shown_in

CHOICE = {"kind": "single_choice", "text_en": "Again?", "options_en": "Yes\nNo\nMaybe"}


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


@pytest.fixture
def ended(make_event, sign_up):
    """An event that ended yesterday, with one attendee."""
    event = make_event()
    attend(sign_up(event, first_name="Ann", last_name="Smith").registrations[0])
    return end_event(event)


@pytest.fixture
def organisers(app, make_user):
    """Two organisers signed in, each in a browser of their own."""
    browsers = []
    for address in ("ana@example.org", "bo@example.org"):
        make_user("organiser", address)
        browser = app.test_client()
        AuthActions(browser).login(address)
        browsers.append(browser)
    return browsers


@pytest.fixture
def choice_question(app, ended, organisers):
    event = ended
    url = f"/admin/events/{event.slug}/feedback/questions"
    assert organisers[0].post(url, data=CHOICE).status_code == 302
    return feedback.questions(event)[-1]


def seen_in(page: str) -> str:
    return re.search(r'id="seen" name="seen" type="hidden" value="([^"]*)"', page)[1]


def stored(question_id: int) -> FeedbackQuestion:
    db.session.expire_all()
    return db.session.get(FeedbackQuestion, question_id)


def test_two_organisers_editing_one_question_keep_each_others_changes(choice_question, organisers):
    ana, bo = organisers
    url = f"/admin/feedback/questions/{choice_question.id}"
    ana_seen, bo_seen = seen_in(ana.get(url).text), seen_in(bo.get(url).text)
    # Bo adds the Swedish text; Ana, from the page she opened before, rewords the English.
    assert bo.post(url, data=CHOICE | {"text_sv": "Igen?", "seen": bo_seen}).status_code == 302
    saved = ana.post(url, data=CHOICE | {"text_en": "Once more?", "seen": ana_seen})
    assert saved.status_code == 302
    question = stored(choice_question.id)
    assert (question.text_in("en"), question.text_in("sv")) == ("Once more?", "Igen?")

    # Both change the choices from pages opened before either saved: the second is refused,
    # told what they hold now, and nothing of it is saved.
    ana_seen, bo_seen = seen_in(ana.get(url).text), seen_in(bo.get(url).text)
    mine = CHOICE | {"text_en": "Once more?", "text_sv": "Igen?"}
    assert ana.post(url, data=mine | {"options_en": "Yes\nNo", "seen": ana_seen}).status_code == 302
    refused = bo.post(url, data=mine | {"options_en": "Yes\nNo\nNot sure", "seen": bo_seen})
    assert refused.status_code == 422
    assert "Someone else saved this question after you opened the page" in refused.text
    assert "it is now: Yes No." in refused.text
    assert stored(choice_question.id).options_in("en") == ["Yes", "No"]
    # Saving again, knowingly, from the page that said so keeps Bo's entry.
    again = bo.post(
        url, data=mine | {"options_en": "Yes\nNo\nNot sure", "seen": seen_in(refused.text)}
    )
    assert again.status_code == 302
    assert stored(choice_question.id).options_in("en") == ["Yes", "No", "Not sure"]


def test_a_question_removed_while_it_is_edited_is_not_written_again(
    ended, choice_question, organisers
):
    ana, bo = organisers
    question_id = choice_question.id
    url = f"/admin/feedback/questions/{question_id}"
    seen = seen_in(ana.get(url).text)
    bo.post(f"{url}/delete", data={"confirm": "y"})
    assert ana.post(url, data=CHOICE | {"seen": seen}).status_code == 404
    as_the_page_saw_it = SimpleNamespace(id=question_id)  # removed before the service's lock
    with pytest.raises(feedback.QuestionGone):
        feedback.save_question(ended, as_the_page_saw_it, QuestionKind.TEXT, {"en": "?"}, [], False)
    assert stored(question_id) is None


def test_answers_given_on_a_page_shown_before_the_choices_changed_are_asked_again(
    app,
    client,
    ended,
    choice_question,
    organisers,
):
    event = ended
    feedback.send_requests(event)
    token = db.session.scalars(select(FeedbackResponse.token)).first()
    page = client.get(f"/feedback/{token}").text
    # Nobody has answered yet, so the organiser may still reorder the choices.
    url = f"/admin/feedback/questions/{choice_question.id}"
    ana = organisers[0]
    reordered = CHOICE | {"options_en": "Maybe\nYes\nNo", "seen": seen_in(ana.get(url).text)}
    assert ana.post(url, data=reordered).status_code == 302

    q = questions_of(event)
    answer = {str(q[0].id): "5", str(q[1].id): "4", str(choice_question.id): "0"}  # "Yes"
    refused = client.post(f"/feedback/{token}", data=answer | {"shown": shown_in(page)})
    assert refused.status_code == 409
    assert "This question was changed after you opened the page." in refused.text
    given = f'value="5" id="q{q[0].id}-5" aria-describedby="q{q[0].id}-scale" checked'
    assert given in refused.text  # the other answers stay as given
    assert f'id="q{choice_question.id}-0" checked' not in refused.text
    db.session.expire_all()
    response = db.session.scalar(select(FeedbackResponse).where(FeedbackResponse.token == token))
    assert response.answers == {}

    # Answered again on the page that showed the new order, "Yes" is now its second place.
    again = answer | {str(choice_question.id): "1", "shown": shown_in(refused.text)}
    assert client.post(f"/feedback/{token}", data=again).status_code == 302
    counts = feedback.results(event, "en").questions[-1].counts
    assert ("Yes", 1) in counts and ("Maybe", 0) in counts


def test_a_reworded_question_text_does_not_ask_for_the_answers_again(
    client,
    ended,
    choice_question,
    organisers,
):
    event = ended
    feedback.send_requests(event)
    token = db.session.scalars(select(FeedbackResponse.token)).first()
    page = client.get(f"/feedback/{token}").text
    url = f"/admin/feedback/questions/{choice_question.id}"
    ana = organisers[0]
    ana.post(url, data=CHOICE | {"text_en": "Come again?", "seen": seen_in(ana.get(url).text)})
    q = questions_of(event)
    answer = {str(q[0].id): "5", str(q[1].id): "4", str(choice_question.id): "0"}
    saved = client.post(f"/feedback/{token}", data=answer | {"shown": shown_in(page)})
    assert saved.status_code == 302


@pytest.mark.parametrize("first", ["answer", "organiser"])
def test_an_answer_and_a_change_of_the_choices_at_the_same_moment(
    app,
    ended,
    choice_question,
    make_user,
    monkeypatch,
    first,
):
    """Whichever comes first, the other waits for it: the organiser's reordering is refused
    once the answer is in, or the person is asked again once the choices moved. Never an
    answer counted against choices the person did not see."""
    event = ended
    feedback.send_requests(event)
    response = db.session.scalars(select(FeedbackResponse)).first()
    q = questions_of(event)
    answer = {str(q[0].id): "5", str(q[1].id): "4", str(choice_question.id): "0"}  # "Yes"
    shown = feedback.answers_fingerprint(feedback.questions(event))
    inside, go = threading.Event(), threading.Event()
    name = "check_answers" if first == "answer" else "answer_count"
    original = getattr(feedback, name)

    def pausing(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            inside.set()
            go.wait(10)
        return original(*args, **kwargs)

    monkeypatch.setattr(feedback, name, pausing)
    outcomes, errors = {}, []

    def person():
        with app.app_context():
            try:
                held = db.session.get(FeedbackResponse, response.id)
                feedback.save_answers(held, answer, shown)
                outcomes["answer"] = "saved"
            except feedback.QuestionnaireChanged:
                outcomes["answer"] = "asked again"
            except Exception as exc:
                errors.append(repr(exc)[:200])

    def organiser():
        with app.app_context():
            try:
                question = db.session.get(FeedbackQuestion, choice_question.id)
                feedback.save_question(
                    question.event,
                    question,
                    QuestionKind.SINGLE_CHOICE,
                    {"en": "Again?"},
                    [{"en": "Maybe"}, {"en": "Yes"}, {"en": "No"}],
                    False,
                )
                outcomes["organiser"] = "saved"
            except feedback.AnsweredQuestion:
                outcomes["organiser"] = "refused"
            except Exception as exc:
                errors.append(repr(exc)[:200])

    threads = {
        "answer": threading.Thread(target=person),
        "organiser": threading.Thread(target=organiser),
    }
    second = "organiser" if first == "answer" else "answer"
    threads[first].start()
    assert inside.wait(10)
    threads[second].start()
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        wait_until(lambda: someone_waits_for_a_lock() or not threads[second].is_alive())
    else:
        time.sleep(0.3)  # SQLite: the second's BEGIN IMMEDIATE waits for the first
    go.set()
    for thread in threads.values():
        thread.join()
    assert errors == []
    if first == "answer":
        assert outcomes == {"answer": "saved", "organiser": "refused"}
        assert stored(choice_question.id).options_in("en") == ["Yes", "No", "Maybe"]
    else:
        assert outcomes == {"organiser": "saved", "answer": "asked again"}
        db.session.expire_all()
        assert db.session.get(FeedbackResponse, response.id).answers == {}
    db.session.rollback()  # SQLite: a read begun before the threads wrote sees none of it
    counts = feedback.results(event, "en").questions[-1].counts
    assert ("Yes", 1 if first == "answer" else 0) in counts


@pytest.mark.parametrize("shown", [None, "damaged"])
def test_a_choice_from_a_page_without_a_valid_fingerprint_is_asked_again(
    client, ended, choice_question, organisers, shown
):
    """A page from before the fingerprint, or one mangled on the way, cannot say what its
    choices meant: a choice answer is asked again, the others are taken as they are."""
    event = ended
    feedback.send_requests(event)
    token = db.session.scalars(select(FeedbackResponse.token)).first()
    url = f"/admin/feedback/questions/{choice_question.id}"
    ana = organisers[0]  # nobody answered yet: she may reorder, and does
    reordered = CHOICE | {"options_en": "Maybe\nYes\nNo", "seen": seen_in(ana.get(url).text)}
    assert ana.post(url, data=reordered).status_code == 302
    q = questions_of(event)
    answer = {str(q[0].id): "5", str(q[1].id): "4", str(choice_question.id): "0"}  # "Yes"
    if shown is not None:
        answer["shown"] = "q1:zz" if shown == "damaged" else shown
    refused = client.post(f"/feedback/{token}", data=answer)
    assert refused.status_code == 409
    assert "This question was changed after you opened the page." in refused.text
    db.session.expire_all()
    assert db.session.scalar(select(FeedbackResponse.answers)) == {}
    again = answer | {str(choice_question.id): "1", "shown": shown_in(refused.text)}
    assert client.post(f"/feedback/{token}", data=again).status_code == 302
    assert ("Yes", 1) in feedback.results(event, "en").questions[-1].counts


@pytest.mark.sqlite_only  # PostgreSQL's sequence never gives an id again
def test_a_question_added_in_place_of_a_removed_one_never_takes_its_id_or_answers(
    client, ended, organisers
):
    """SQLite gave a removed last question's id to the next: a page showing the removed
    question then answered the new one, and its answers counted for it."""
    event = ended
    feedback.send_requests(event)
    token = db.session.scalars(select(FeedbackResponse.token)).first()
    ana = organisers[0]
    url = f"/admin/events/{event.slug}/feedback/questions"
    assert ana.post(url, data={"kind": "rating", "text_en": "The catering?"}).status_code == 302
    catering = feedback.questions(event)[-1].id
    page = client.get(f"/feedback/{token}").text
    q = questions_of(event)
    answers = {str(q[0].id): "5", str(q[1].id): "4", str(catering): "1"}
    assert (
        client.post(f"/feedback/{token}", data=answers | {"shown": shown_in(page)}).status_code
        == 302
    )

    ana.post(f"/admin/feedback/questions/{catering}/delete", data={"confirm": "y"})
    db.session.expire_all()
    kept = db.session.scalar(select(FeedbackResponse.answers))
    assert str(catering) not in kept  # "the question and its answers are removed"
    assert ana.post(url, data={"kind": "rating", "text_en": "The venue?"}).status_code == 302
    venue = feedback.questions(event)[-1]
    assert venue.id != catering
    assert feedback.answer_count(venue) == 0
    # The page that showed the catering question, sent again: nothing for the venue.
    client.post(f"/feedback/{token}", data=answers | {"shown": shown_in(page)})
    db.session.expire_all()
    assert str(venue.id) not in db.session.scalar(select(FeedbackResponse.answers))


def test_the_migration_keeps_the_questions_and_never_gives_an_id_again(backend, tmp_path):
    def add(text_en: str) -> int:
        db.session.execute(
            text(
                "INSERT INTO feedback_question (event_id, position, kind, texts, options,"
                " required) VALUES (1, 1, 'rating', :texts, '[]', false)"
            ),
            {"texts": f'{{"en": "{text_en}"}}'},
        )
        db.session.commit()
        return db.session.scalar(text("SELECT max(id) FROM feedback_question"))

    with migrated_from("0029_former_members", backend, tmp_path) as upgrade_rest:
        db.session.execute(
            text(
                "INSERT INTO event (id, slug, title, description, kind, mode, timezone,"
                " starts_at, ends_at, capacity, status, host_partner, registration_opens_at,"
                " registration_closes_at, created_at, updated_at) VALUES (1, 'e', 'E', '',"
                " 'webinar', 'online', 'UTC', '2026-01-10 10:00:00', '2026-01-10 12:00:00', 10,"
                " 'published', 'H', '2025-12-01 00:00:00', '2026-01-09 00:00:00',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        kept, last = add("Kept"), add("Removed")
        db.session.remove()
        upgrade_rest()
        assert db.session.scalar(text("SELECT count(*) FROM feedback_question")) == 2
        db.session.execute(text("DELETE FROM feedback_question WHERE id = :id"), {"id": last})
        db.session.commit()
        assert add("Added") == last + 1 and kept < last
        db.session.remove()
