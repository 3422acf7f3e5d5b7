"""Pages, dates and e-mails in the reader's language; event texts per language."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import Event
from eventreg.services import outbox
from eventreg.services.programme import load_programme
from tests.support.mail import smtp_config


def bergamo():
    return db.session.scalar(select(Event).where(Event.slug == "mission-bergamo"))


def test_browser_language_chooses_the_page_language(client):
    load_programme()
    page = client.get("/", headers={"Accept-Language": "bg,en;q=0.5"}).text
    assert '<html lang="bg">' in page
    assert "Учебна мисия в Бергамо" in page
    assert "март 2027" in page  # the date is formatted for the locale


def test_the_language_picked_is_remembered(client):
    load_programme()
    client.post("/language", data={"language": "it", "next": "/events/mission-bergamo"})
    page = client.get("/events/mission-bergamo", headers={"Accept-Language": "da"}).text
    assert '<html lang="it">' in page
    assert "Missione di studio a Bergamo" in page


@pytest.mark.parametrize(
    ("language", "message"), [("bg", "Не е валиден избор"), ("it", "Non è una opzione valida")]
)
def test_wtforms_own_messages_follow_each_requests_language(client, make_event, language, message):
    """WTForms' built-in messages are translated per request, from a catalogue read once."""
    make_event(slug="webinar")
    for asked, expected in ((language, message), ("en", "Not a valid choice.")):
        response = client.post(
            "/api/v1/events/webinar/registrations",
            json={"target_group": "no-such-group"},
            headers={"Accept-Language": asked},
        )
        assert response.status_code == 422
        assert response.json["errors"]["target_group"] == [expected]


@pytest.mark.parametrize(
    "elsewhere",
    ["https://evil.example/", "//evil.example/", "/\\evil.example/", "/\t/evil.example/"],
)
def test_picker_ignores_unknown_languages_and_foreign_redirects(client, elsewhere):
    """Browsers drop tabs and read backslashes as slashes: ``/<tab>/host`` is another site."""
    response = client.post("/language", data={"language": "xx", "next": elsewhere})
    assert response.headers["Location"] == "/"


def test_picker_goes_back_to_the_page_it_was_on(client):
    response = client.post("/language", data={"language": "it", "next": "/events?page=2"})
    assert response.headers["Location"] == "/events?page=2"


def test_untranslated_texts_fall_back_to_english(client, make_event):
    event = make_event(title="Only in English", translations={"it": {"title": "Solo italiano"}})
    assert (
        "Only in English"
        in client.get(f"/events/{event.slug}", headers={"Accept-Language": "sv"}).text
    )
    assert (
        "Solo italiano"
        in client.get(f"/events/{event.slug}", headers={"Accept-Language": "it"}).text
    )


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


def test_emails_use_the_registrants_language_also_when_sent_later(smtp, sign_up):
    load_programme()
    sign_up(bergamo(), language="pt", email="ana@example.pt")
    sign_up(bergamo(), language="sv", email="sven@example.se")
    outbox.deliver_all()
    by_recipient = {m["To"].addresses[0].addr_spec: m for m in smtp.inbox.wait_for(2)}
    assert "Missão de estudo a Bérgamo" in by_recipient["ana@example.pt"]["Subject"]
    assert "Studieresa till Bergamo" in by_recipient["sven@example.se"]["Subject"]


def test_organisers_give_titles_per_language(client, auth, make_user, make_event):
    make_user("organiser")
    auth.login("organiser@example.org")
    rome = ZoneInfo("Europe/Rome")
    event = make_event(
        starts_at=datetime(2031, 3, 1, 9, tzinfo=rome),
        ends_at=datetime(2031, 3, 1, 17, tzinfo=rome),
    )
    page = client.get(f"/admin/events/{event.slug}/edit").text
    data = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page))
    data |= {"kind": "mission", "mode": "in_person", "timezone": "Europe/Rome"}
    data |= {"title_da": "Studietur til Bergamo", "description_da": "Tre dage i Bergamo."}
    assert client.post(f"/admin/events/{event.slug}/edit", data=data).status_code == 302
    danish = client.get(f"/events/{event.slug}", headers={"Accept-Language": "da"}).text
    assert "Studietur til Bergamo" in danish and "Tre dage i Bergamo." in danish


def test_accessibility_statement_is_linked_from_every_page(client):
    assert 'href="/accessibility"' in client.get("/").text
    assert "WCAG" in client.get("/accessibility").text
