"""Event content in the reader's language: programme texts, titles inside sentences, the API,
exports and the sign-in sheet; European dates and one localised form of time zones."""

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import select

from eventreg.config import LANGUAGES
from eventreg.extensions import db
from eventreg.models import Event
from eventreg.services.manage_links import manage_token
from eventreg.services.programme import SHIPPED_PROGRAMME, load_programme, read_programme
from tests.support.factories import person

TRANSLATED = sorted(set(LANGUAGES) - {"en"})
ROME = ZoneInfo("Europe/Rome")
BULGARIAN = {"title": "Учебна мисия в Габрово", "description": "Три дни в Габрово."}


def speaking(language: str) -> dict:
    return {"Accept-Language": language}


@pytest.fixture
def mission(make_event):
    return make_event(
        title="Study mission to Gabrovo",
        description="Three days in Gabrovo.",
        city="Gabrovo",
        starts_at=datetime(2031, 2, 10, 10, tzinfo=ROME),
        ends_at=datetime(2031, 2, 10, 12, tzinfo=ROME),
        translations={"bg": BULGARIAN, "it": {"title": "Missione di studio a Gabrovo"}},
    )


@pytest.fixture
def organiser(client, auth, make_user):
    make_user("organiser")
    auth.login("organiser@example.org")
    return client


def test_shipped_programme_has_every_title_and_description_in_every_language():
    for event in read_programme(SHIPPED_PROGRAMME):
        for language in TRANSLATED:
            texts = event["translations"].get(language, {})
            assert texts.get("title") and texts.get("description"), (event["slug"], language)
            assert texts["description"] != event["description"]


@pytest.mark.parametrize("language", TRANSLATED)
def test_shipped_event_pages_show_no_english_content(client, language):
    load_programme()
    page = client.get("/events/mission-odense", headers=speaking(language)).text
    odense = db.session.scalar(select(Event).where(Event.slug == "mission-odense"))
    assert odense.text_in("description", language) in page
    assert odense.description.split()[2] not in page  # "how" from the English text
    assert "Europe/" not in page  # the days' zone is named in the reader's language too
    main = page.split("<main", 1)[1]
    # The agenda's days have their titles in the reader's language too: nothing is English.
    for day in odense.days:
        title, written_in = day.title_in(language)
        assert written_in == language and title != day.title
        assert f": {escape(title)}</li>" in main
        assert escape(day.title) not in main
    assert 'lang="en"' not in main


def test_a_text_without_translation_is_marked_as_english(client, mission):
    page = client.get(f"/events/{mission.slug}", headers=speaking("it")).text
    assert re.search(r"<h1>Missione di studio a Gabrovo</h1>", page)  # translated: no lang
    assert re.search(r'<div class="description" lang="en"><p>Three days in Gabrovo.', page)
    swedish = client.get("/", headers=speaking("sv")).text
    assert re.search(r'<h3 lang="en"><a [^>]*>Study mission to Gabrovo</a></h3>', swedish)


def test_duplicate_address_error_names_the_event_in_the_readers_language(client, mission):
    data = person(email="ivan@example.bg") | {"events": [mission.slug], "consent": "y"}
    client.post("/register", data=data, headers=speaking("bg"))
    again = client.post("/register", data=data, headers=speaking("bg"))
    assert again.status_code == 422
    assert f"вече е регистриран за {BULGARIAN['title']}" in again.text


def test_manage_cancel_notice_names_the_event_in_the_readers_language(client, mission, sign_up):
    registrant = sign_up(mission, language="bg")
    reference = registrant.registrations[0].reference
    path = f"/manage/{manage_token(registrant)}"
    client.post(
        f"{path}/registrations/{reference}/cancel", data={"confirm": "yes"}, headers=speaking("bg")
    )
    page = client.get(path, headers=speaking("bg")).text
    assert f"Регистрацията Ви за {BULGARIAN['title']} е отменена." in page


def test_api_answers_in_the_accept_language_and_says_which(client, mission):
    url = f"/api/v1/events/{mission.slug}"
    bulgarian = client.get(url, headers=speaking("bg, en;q=0.5")).json
    assert (bulgarian["language"], bulgarian["title"]) == ("bg", BULGARIAN["title"])
    assert bulgarian["description"] == BULGARIAN["description"]
    swedish = client.get(url, headers=speaking("sv")).json  # no Swedish texts: English, said so
    assert (swedish["language"], swedish["title"]) == ("en", "Study mission to Gabrovo")
    assert swedish["description"] == "Three days in Gabrovo."
    (listed,) = client.get("/api/v1/events", headers=speaking("bg")).json["events"]
    assert (listed["language"], listed["title"]) == ("bg", BULGARIAN["title"])


def test_exports_and_statistics_use_the_readers_title(organiser, mission, sign_up):
    sign_up(mission)
    response = organiser.get(f"/admin/events/{mission.slug}/attendees.csv", headers=speaking("bg"))
    (row,) = csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline=""))
    assert (row["event"], row["event_title"]) == (mission.slug, BULGARIAN["title"])
    english = organiser.get("/admin/attendees.csv", headers=speaking("en"))
    assert "Study mission to Gabrovo" in english.data.decode("utf-8-sig")
    stats = organiser.get(f"/admin/events/{mission.slug}/statistics", headers=speaking("bg")).text
    assert f"<h1>{BULGARIAN['title']}</h1>" in stats
    programme = organiser.get("/admin/statistics", headers=speaking("bg")).text
    assert BULGARIAN["title"] in programme and "Study mission to Gabrovo" not in programme


def test_sign_in_sheet_states_its_language_and_title(organiser, mission, sign_up):
    sign_up(mission)
    response = organiser.get(f"/admin/events/{mission.slug}/attendees.pdf", headers=speaking("bg"))
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.trailer["/Root"]["/Lang"] == "bg"
    assert reader.metadata.title == f"Присъствен списък: {BULGARIAN['title']}"
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"]
    (text,) = [page.extract_text() for page in reader.pages]
    assert text.count(BULGARIAN["title"]) == 2  # heading and footer
    assert "Study mission to Gabrovo" not in text


def test_english_dates_are_european_with_the_24_hour_clock(client, mission):
    page = client.get(f"/events/{mission.slug}", headers=speaking("en")).text
    assert "Monday, 10 February 2031" in page
    assert "10:00 – 12:00 (Central European Standard Time)" in page
    assert not re.search(r"\b(AM|PM)\b", page)


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_time_zones_have_one_localised_form(client, make_event, language):
    lisbon = ZoneInfo("Europe/Lisbon")
    event = make_event(
        timezone="Europe/Lisbon",
        starts_at=datetime(2031, 4, 21, 9, 30, tzinfo=lisbon),
        ends_at=datetime(2031, 4, 21, 16, 30, tzinfo=lisbon),
        registration_opens_at=datetime(2031, 4, 1, 9, tzinfo=lisbon),
        registration_closes_at=datetime(2031, 4, 20, 18, tzinfo=lisbon),
    )
    page = client.get(f"/events/{event.slug}", headers=speaking(language)).text
    assert "Europe/" not in page
    # Words, not letters: a random token in the page (the CSRF token) may hold "GMT".
    assert not re.search(r"[+-]0[0-9]00\b|\bWEST\b|\bCET\b|\bGMT\b", page)
    zone = {
        "en": "Western European Summer Time",
        "bg": "Западноевропейско лятно време",
        "it": "Ora legale dell’Europa occidentale",
        "pt": "Horário de Verão da Europa Ocidental",
        "da": "Vesteuropæisk sommertid",
        "sv": "västeuropeisk sommartid",
        "es": "hora de verano de Europa occidental",
    }[language]
    assert page.count(f"({zone})") == 2  # the event's time and the opening of registration


def test_organisers_choose_time_zones_by_city_in_their_language(organiser, mission):
    english = organiser.get(f"/admin/events/{mission.slug}/edit", headers=speaking("en")).text
    assert re.search(r'value="Europe/Rome">Rome – Central European Time</option>', english)
    assert ">Europe/" not in english
    bulgarian = organiser.get(f"/admin/events/{mission.slug}/edit", headers=speaking("bg")).text
    assert re.search(r'value="Europe/Sofia">София – Източноевропейско време</option>', bulgarian)


def test_labelled_exports_keep_the_readers_title(organiser, mission, sign_up):
    sign_up(mission)
    url = f"/admin/events/{mission.slug}/attendees.csv?labels=yes"
    response = organiser.get(url, headers=speaking("bg"))
    (row,) = csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline=""))
    assert row["event_title"] == BULGARIAN["title"]
    assert row["Статус"] == "Потвърдена"
