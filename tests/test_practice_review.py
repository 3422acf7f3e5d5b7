"""Deciding on proposed practices: the proposer hears of it, and a practice can leave again."""

import json
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select, text

from eventreg.extensions import db
from eventreg.models import (
    OutboxMessage,
    Practice,
    ProcurementType,
    utcnow,
)
from eventreg.services import outbox, practices
from eventreg.services.practices import PracticeInput, TextInput
from tests.support.accessibility import logged_in, violations
from tests.support.database import migrated_from
from tests.support.factories import active_member
from tests.support.mail import smtp_config


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


@pytest.fixture
def proposer(app):
    return active_member(name="Ана Петрова")


@pytest.fixture
def organiser(client, make_user, auth):
    make_user("organiser")
    auth.login("organiser@example.org")
    return client


def proposal(member, title="Запазени поръчки в Габрово"):
    return practices.propose(
        PracticeInput(
            "Габрово",
            "BG",
            ProcurementType.RESERVED,
            texts=[TextInput("bg", title, "Общината възложи поддръжката на парковете.")],
        ),
        member,
    )


def in_bulgarian(text: str) -> str:
    with force_locale("bg"):
        return gettext(text)


def sent_mail(smtp, count=1):
    outbox.deliver_all()
    db.session.rollback()
    return smtp.inbox.wait_for(count)


def test_the_proposer_hears_in_their_language_that_the_practice_is_published(
    organiser, proposer, smtp, app
):
    practice = proposal(proposer)
    response = organiser.post(f"/practices/{practice.id}/review", data={"decision": "publish"})
    assert response.status_code == 302
    (message,) = sent_mail(smtp)
    subject = in_bulgarian("Your practice is now in the library of practices")
    assert message["Subject"] == subject != "Your practice is now in the library of practices"
    assert message["To"].addresses[0].addr_spec == "ana@example.bg"
    assert message["List-Unsubscribe"].startswith("<http://eventreg.test/network/unsubscribe/")
    text = message.get_body(("plain",)).get_content()
    assert "Запазени поръчки в Габрово" in text
    assert f"http://eventreg.test/practices/{practice.id}" in text
    html = message.get_body(("html",)).get_content()
    assert '<span lang="bg">Запазени поръчки в Габрово</span>' in html


def test_a_rejection_carries_the_organisers_note(organiser, proposer, smtp, app):
    practice = proposal(proposer)
    note = "Моля, добавете текста на клаузата & резултатите <тук>."
    response = organiser.post(
        f"/practices/{practice.id}/review", data={"decision": "reject", "note": note}
    )
    assert response.status_code == 302
    db.session.refresh(practice)
    assert practice.is_rejected
    (message,) = sent_mail(smtp)
    assert message["Subject"] == in_bulgarian("Your proposed practice has not been published")
    assert note in message.get_body(("plain",)).get_content()
    assert "&amp; резултатите &lt;тук&gt;" in message.get_body(("html",)).get_content()


def test_a_too_long_note_is_refused_and_nothing_happens(organiser, proposer, smtp, app):
    practice = proposal(proposer)
    response = organiser.post(
        f"/practices/{practice.id}/review", data={"decision": "reject", "note": "x" * 2001}
    )
    assert response.status_code == 422
    assert "2000" in response.text
    db.session.refresh(practice)
    assert practice.is_proposed
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_member_who_stopped_the_networks_e_mails_is_not_told(organiser, proposer, app):
    proposer.receives_mail = False
    db.session.commit()
    practice = proposal(proposer)
    organiser.post(f"/practices/{practice.id}/review", data={"decision": "publish"})
    db.session.refresh(practice)
    assert practice.is_published
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_practice_an_organiser_published_mails_nobody(organiser, app):
    practice = practices.publish_new(
        PracticeInput("Odense", "DK", ProcurementType.WORKS, texts=[TextInput("da", "Klausuler")])
    )
    organiser.post(f"/practices/{practice.id}/unpublish", data={"confirm": "y"})
    organiser.post(f"/practices/{practice.id}/review", data={"decision": "reject"})
    db.session.refresh(practice)
    assert practice.is_rejected
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_unpublishing_takes_a_practice_out_of_library_and_booklet_back_to_review(
    organiser, client, proposer, smtp, app
):
    practice = proposal(proposer, title="Социални клаузи")
    practices.review(practice, accept=True)
    assert "Социални клаузи" in client.get("/practices/document?lang=bg").text

    page = organiser.get(f"/practices/{practice.id}/unpublish")
    assert page.status_code == 200 and 'name="confirm"' in page.text
    response = organiser.post(f"/practices/{practice.id}/unpublish", data={})
    assert response.status_code == 422 and "Tick the box to confirm." in response.text
    db.session.refresh(practice)
    assert practice.is_published  # not ticked: nothing changed

    response = organiser.post(f"/practices/{practice.id}/unpublish", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.refresh(practice)
    assert practice.is_proposed and practice.published_at is None
    assert "Социални клаузи" not in client.get("/practices").text
    assert "Социални клаузи" not in client.get("/practices/document?lang=bg").text
    review = organiser.get("/practices/review").text
    assert "Социални клаузи" in review.split("<h2>Published</h2>")[0]  # waiting for review

    again = organiser.post(f"/practices/{practice.id}/unpublish", data={"confirm": "y"})
    assert again.status_code == 302
    assert "This practice is not published." in organiser.get("/practices/review").text
    with pytest.raises(practices.PracticeError):
        practices.unpublish(practice)  # the rule holds without the page too
    # The proposer heard of the publication and of the withdrawal, once each.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_a_takedown_e_mail_still_waiting_when_the_practice_is_back_is_not_sent(
    organiser, proposer, smtp, app
):
    practice = proposal(proposer, title="Социални клаузи")
    practices.review(practice, accept=True)
    sent_mail(smtp)
    smtp.inbox.envelopes.clear()
    organiser.post(f"/practices/{practice.id}/unpublish", data={"confirm": "y"})
    db.session.refresh(practice)
    practices.review(practice, accept=True)  # back in the library before the outbox ran
    (message,) = sent_mail(smtp)
    assert message["Subject"] == in_bulgarian("Your practice is back in the library of practices")
    taken_out = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "network_practice_unpublished")
    )
    assert (taken_out.status.value, taken_out.skip_reason.value) == (
        "skipped",
        "practice_moved_on",
    )


def test_a_publication_e_mail_still_waiting_when_the_practice_is_taken_out_is_not_sent(
    organiser, proposer, smtp, app
):
    practice = proposal(proposer, title="Социални клаузи")
    practices.review(practice, accept=True)
    organiser.post(f"/practices/{practice.id}/unpublish", data={"confirm": "y"})
    (message,) = sent_mail(smtp)
    assert message["Subject"] != in_bulgarian("Your practice is now in the library of practices")
    published = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "network_practice_published")
    )
    assert published.skip_reason.value == "practice_moved_on"


def test_a_publication_e_mail_for_a_practice_removed_for_good_names_no_later_practice(
    organiser, proposer, smtp, app
):
    """SQLite gives a removed practice's id to the next one: the e-mail still waiting for the
    removed practice must not be sent, with its title, as news of (and a link to) the new one."""
    removed = proposal(proposer, title="Социални клаузи")
    practices.review(removed, accept=True)
    removed_id = removed.id
    practices.remove(removed)
    lars = active_member("Lars Holm", "lars@example.dk")
    later = proposal(lars, title="Reserverede kontrakter")
    practices.review(later, accept=True)
    (message,) = sent_mail(smtp)
    assert message["To"].addresses[0].addr_spec == "lars@example.dk"
    text = message.get_body(("plain",)).get_content()
    assert "Reserverede kontrakter" in text and "Социални клаузи" not in text
    first = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.recipient == "ana@example.bg")
    )
    assert first.params["practice_id"] == removed_id
    assert first.skip_reason.value == "practice_moved_on"


def published_then_withdrawn(organiser, proposer, smtp, note: str = ""):
    """A member's practice was published (they heard of it), then an organiser withdrew it."""
    practice = proposal(proposer, title="Социални клаузи")
    practices.review(practice, accept=True)
    sent_mail(smtp)
    smtp.inbox.envelopes.clear()
    response = organiser.post(
        f"/practices/{practice.id}/unpublish", data={"confirm": "y", "note": note}
    )
    assert response.status_code == 302
    return practice


def test_the_proposer_is_told_in_their_language_when_the_practice_is_withdrawn_and_why(
    organiser, proposer, smtp, app
):
    note = "Докладът за резултатите се преразглежда & ще бъде <обновен>."
    practice = published_then_withdrawn(organiser, proposer, smtp, note)
    (message,) = sent_mail(smtp)
    subject = in_bulgarian("Your practice has been taken out of the library of practices")
    assert (
        message["Subject"]
        == subject
        != "Your practice has been taken out of the library of practices"
    )
    assert message["To"].addresses[0].addr_spec == "ana@example.bg"
    assert message["List-Unsubscribe"].startswith("<http://eventreg.test/network/unsubscribe/")
    text = message.get_body(("plain",)).get_content()
    assert "Социални клаузи" in text and note in text
    assert in_bulgarian("Their note:") in text
    html = message.get_body(("html",)).get_content()
    assert '<span lang="bg">Социални клаузи</span>' in html
    assert "&amp; ще бъде &lt;обновен&gt;" in html
    assert f"/practices/{practice.id}" not in text  # the page is no longer public


def test_a_withdrawal_without_a_reason_says_no_note(organiser, proposer, smtp, app):
    published_then_withdrawn(organiser, proposer, smtp)
    (message,) = sent_mail(smtp)
    assert in_bulgarian("Their note:") not in message.get_body(("plain",)).get_content()


def test_publishing_a_withdrawn_practice_again_says_so_not_that_it_is_new(
    organiser, proposer, smtp, app
):
    practice = published_then_withdrawn(organiser, proposer, smtp)
    sent_mail(smtp)
    smtp.inbox.envelopes.clear()
    response = organiser.post(f"/practices/{practice.id}/review", data={"decision": "publish"})
    assert response.status_code == 302
    (message,) = sent_mail(smtp)
    first = in_bulgarian("Your practice is now in the library of practices")
    again = in_bulgarian("Your practice is back in the library of practices")
    assert (
        message["Subject"]
        == again
        not in (first, "Your practice is back in the library of practices")
    )
    text = message.get_body(("plain",)).get_content()
    assert "Социални клаузи" in text
    assert f"http://eventreg.test/practices/{practice.id}" in text
    db.session.refresh(practice)
    assert practice.is_published and practice.published_at >= practice.first_published_at


def test_a_too_long_reason_for_withdrawing_is_refused_and_nothing_happens(
    organiser, proposer, smtp, app
):
    practice = proposal(proposer)
    practices.review(practice, accept=True)
    response = organiser.post(
        f"/practices/{practice.id}/unpublish", data={"confirm": "y", "note": "x" * 2001}
    )
    assert response.status_code == 422 and "2000" in response.text
    db.session.refresh(practice)
    assert practice.is_published
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_withdrawal_waiting_in_the_outbox_is_not_sent_once_the_member_stopped_the_mail(
    organiser, proposer, smtp, app
):
    practice = proposal(proposer)
    practices.review(practice, accept=True)
    sent_mail(smtp)
    smtp.inbox.envelopes.clear()
    practices.unpublish(practice, note="Ще се върне.")
    proposer.receives_mail = False  # the one-click link, before the sender came round
    db.session.commit()
    report = outbox.deliver_all()
    db.session.rollback()
    assert (report.sent, report.skipped) == (0, 1)
    assert smtp.inbox.messages == []


@pytest.mark.parametrize("role", [None, "checkin"])
def test_only_organisers_decide_and_unpublish(client, app, make_user, auth, proposer, role):
    practice = proposal(proposer)
    published = proposal(proposer, title="Друга")
    practices.review(published, accept=True)
    if role:
        make_user(role)
        auth.login(f"{role}@example.org")
    assert client.post(
        f"/practices/{practice.id}/review", data={"decision": "publish"}
    ).status_code in (302, 403)
    for path in (f"/practices/{published.id}/unpublish",):
        assert client.get(path).status_code in (302, 403)
        assert client.post(path, data={"confirm": "y"}).status_code in (302, 403)
    db.session.refresh(practice)
    db.session.refresh(published)
    assert practice.is_proposed and published.is_published
    assert client.get(f"/practices/{practice.id}").status_code == 404


def test_an_unknown_decision_is_refused(organiser, proposer, app):
    practice = proposal(proposer)
    response = organiser.post(f"/practices/{practice.id}/review", data={"decision": "maybe"})
    assert response.status_code == 400
    db.session.refresh(practice)
    assert practice.is_proposed


@pytest.mark.sqlite_only  # the pages are the same on both databases
@pytest.mark.parametrize("language", ["en", "bg"])
def test_the_review_pages_in_a_browser_are_accessible_and_name_each_button(
    app, make_user, new_context, live_server, proposer, language
):
    make_user("organiser")
    waiting = proposal(proposer, title="Запазени поръчки в Габрово")
    proposal(proposer, title="Социални клаузи")
    published = proposal(proposer, title="Зелени обществени поръчки")
    practices.review(published, accept=True)
    page = logged_in(new_context, live_server, language, width=320)
    report, too_wide = {}, {}

    def audit(name):
        report[name] = violations(page)
        if page.evaluate("document.documentElement.scrollWidth") > 320:
            too_wide[name] = True

    page.goto(f"{live_server}/practices/review")
    audit("review")
    with app.test_request_context(), force_locale(language):
        publish, reject = gettext("Publish"), gettext("Reject")
    for title in ("Запазени поръчки в Габрово", "Социални клаузи"):
        assert page.get_by_role("button", name=f"{publish} {title}", exact=True).count() == 1
        assert page.get_by_role("button", name=f"{reject} {title}", exact=True).count() == 1
    page.goto(f"{live_server}/practices/{waiting.id}")
    audit("proposal")
    page.fill("textarea[name=note]", "Моля, добавете резултатите.")
    page.locator("button[value=reject]").click()
    page.wait_for_url(re.compile(r".*/practices/review$"))
    db.session.refresh(waiting)
    assert waiting.is_rejected
    page.goto(f"{live_server}/practices/{published.id}/unpublish")
    audit("unpublish")
    page.locator("form.stack button[type=submit]").click()
    assert page.locator("#error-summary").is_visible()
    audit("unpublish with an error")
    page.goto(f"{live_server}/practices/{published.id}/text?lang=it")
    audit("new translation")
    assert {name: found for name, found in report.items() if found} == {}
    assert too_wide == {}


def test_the_upgrade_remembers_which_practices_were_published_before(backend, tmp_path):
    """Migration 0025: a practice published now, or taken out after its proposer was told it
    was published, was published before (publishing it again is no news); one never was."""
    now = utcnow().replace(tzinfo=None, microsecond=0)
    told = now - timedelta(days=3)
    with migrated_from("0024_abuse_reports", backend, tmp_path) as upgrade_rest:
        for practice_id, status, published_at in (
            (1, "published", now),
            (2, "proposed", None),  # taken out after its publication was told
            (3, "proposed", None),  # waiting for its first review
        ):
            db.session.execute(
                text(
                    "INSERT INTO practice (id, city, country, procurement_type, status,"
                    " created_at, published_at) VALUES (:id, 'Gabrovo', 'BG', 'reserved',"
                    " :status, :created, :published_at)"
                ),
                {"id": practice_id, "status": status, "created": told, "published_at": now},
            )
            db.session.execute(
                text("UPDATE practice SET published_at = :at WHERE id = :id"),
                {"at": published_at, "id": practice_id},
            )
        params = "CAST(:params AS JSON)" if backend == "postgresql" else ":params"
        db.session.execute(
            text(
                "INSERT INTO outbox_message (kind, recipient, params, message_id, status,"
                " attempts, next_attempt_at, created_at) VALUES ('network_practice_published',"
                f" 'ana@example.bg', {params}, '<told@eventreg.test>', 'sent', 1, :at, :at)"
            ),
            {"params": json.dumps({"practice_id": 2, "title": "Клаузи"}), "at": told},
        )
        db.session.commit()
        upgrade_rest()
        first = {p.id: p.first_published_at for p in db.session.scalars(select(Practice))}
    assert first[1].replace(tzinfo=None) == now
    assert first[2].replace(tzinfo=None) == told
    assert first[3] is None
