"""The library of practices through its pages, and the best-practice document read back."""

import io
import subprocess
import threading
import urllib.request
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from babel import Locale
from flask_babel import force_locale, gettext
from sqlalchemy import select
from werkzeug.http import parse_options_header

from eventreg.extensions import db
from eventreg.models import (
    EventKind,
    EventStatus,
    Practice,
    PracticeText,
    ProcurementType,
    utcnow,
)
from eventreg.services import members, practices
from eventreg.services.practices import PracticeInput, TextInput
from eventreg.services.storage import storage
from tests.support.booklet import count_booklet_builds
from tests.support.factories import AuthActions, active_member


def text_of_pdf(data: bytes, tmp_path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_info(data: bytes, tmp_path) -> str:
    path = tmp_path / "info.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout


@pytest.fixture
def member(app):
    return active_member()


def signed_in(client, member):
    with client.session_transaction() as session:
        session["network_member"] = members.open_session(member)
    return client


@pytest.fixture
def missions(make_event):
    bergamo = make_event(
        title="Study mission to Bergamo", translations={"bg": {"title": "Учебна мисия в Бергамо"}}
    )
    gabrovo = make_event(
        title="Study mission to Gabrovo",
        city="Gabrovo",
        starts_at=utcnow() + timedelta(days=40),
        ends_at=utcnow() + timedelta(days=41),
    )
    webinar = make_event(title="Webinar on reserved contracts", kind=EventKind.WEBINAR)
    return bergamo, gabrovo, webinar


def publish(event, city, country, texts, kind=ProcurementType.SERVICES):
    return practices.publish_new(
        PracticeInput(
            city=city,
            country=country,
            procurement_type=kind,
            event_id=event.id if event else None,
            texts=[TextInput(*t) for t in texts],
        )
    )


def test_the_library_lists_published_practices_and_searches(client, app, missions):
    bergamo, *_ = missions
    publish(bergamo, "Bergamo", "IT", [("en", "Home care with employment clauses", "Carers")])
    publish(None, "Cádiz", "ES", [("es", "Alimentación ecológica", "Comedores")])
    page = client.get("/practices").text
    assert "Home care with employment clauses" in page and "Alimentación ecológica" in page
    page = client.get("/practices?q=ALIMENTACION").text
    assert "Alimentación ecológica" in page and "Home care" not in page
    page = client.get(f"/practices?event={bergamo.id}").text
    assert "Home care" in page and "Alimentación" not in page


def test_a_practice_without_a_translation_says_so(client, app, missions):
    practice = publish(missions[0], "Bergamo", "IT", [("it", "Assistenza domiciliare", "x")])
    client.post("/language", data={"language": "sv"})
    page = client.get(f"/practices/{practice.id}").text
    assert 'lang="it"' in page and "Assistenza domiciliare" in page
    assert "Italiano" in page  # which languages it exists in


def test_members_propose_and_organisers_review(client, app, member, make_user, auth, missions):
    data = {
        "city": "Габрово",
        "country": "BG",
        "event": str(missions[1].id),
        "procurement_type": "reserved",
        "language": "bg",
        "title": "Запазени поръчки за социални предприятия",
        "summary": "Община Габрово",
    }
    assert client.post("/practices/propose", data=data).status_code == 302  # not signed in
    assert db.session.scalar(select(Practice)) is None
    signed_in(client, member)
    assert client.post("/practices/propose", data=data | {"title": ""}).status_code == 422
    assert client.post("/practices/propose", data=data).status_code == 302
    practice = db.session.scalar(select(Practice))
    assert practice.is_proposed and practice.proposed_by_id == member.id
    assert "Запазени" not in client.get("/practices").text
    assert client.get(f"/practices/{practice.id}").status_code == 404

    assert (
        client.post(f"/practices/{practice.id}/review", data={"decision": "publish"}).status_code
        == 302
    )
    db.session.refresh(practice)
    assert practice.is_proposed  # a member is not an organiser: sent to the staff login

    make_user("organiser")
    auth.login("organiser@example.org")
    assert "Запазени" in client.get("/practices/review").text
    client.post(f"/practices/{practice.id}/review", data={"decision": "publish"})
    db.session.refresh(practice)
    assert practice.is_published
    assert "Запазени" in client.get("/practices?q=запазени").text


def test_organisers_add_translations(client, app, make_user, auth, missions):
    practice = publish(missions[0], "Bergamo", "IT", [("it", "Assistenza domiciliare", "x")])
    make_user("organiser")
    auth.login("organiser@example.org")
    response = client.post(
        f"/practices/{practice.id}/text",
        data={"language": "pt", "title": "Assistência domiciliária", "summary": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(practice)
    assert practice.languages == ["it", "pt"]
    assert "Assistenza domiciliare" in client.get("/practices?q=assistencia").text
    client.post("/language", data={"language": "pt"})
    assert "Assistência domiciliária" in client.get("/practices?q=assistencia").text


@pytest.mark.parametrize("role", [None, "checkin"])
def test_organiser_pages_are_for_organisers(client, app, make_user, auth, role, missions):
    practice = publish(missions[0], "Bergamo", "IT", [("it", "Assistenza", "x")])
    if role:
        make_user(role)
        auth.login(f"{role}@example.org")
    for path in ("/practices/new", "/practices/review", f"/practices/{practice.id}/text"):
        assert client.get(path).status_code in (302, 403)


def test_the_document_pdf_has_a_cover_contents_and_a_chapter_per_mission(
    client, app, missions, tmp_path
):
    bergamo, gabrovo, webinar = missions
    publish(
        bergamo,
        "Bergamo",
        "IT",
        [("en", "Home care services", "Care at home"), ("bg", "Домашни грижи", "Грижи")],
    )
    publish(gabrovo, "Gabrovo", "BG", [("en", "Reserved contracts in Gabrovo", "Work")])
    publish(webinar, "Odense", "DK", [("da", "Sociale klausuler", "Odense Kommune")])

    response = client.get("/practices/document.pdf?lang=bg")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = text_of_pdf(response.data, tmp_path)
    info = pdf_info(response.data, tmp_path)
    assert "Tagged:          yes" in info
    assert "Title:" in info
    assert "Учебна мисия в Бергамо" in text  # the chapter title in Bulgarian
    assert "Домашни грижи" in text  # the Bulgarian text of the practice
    assert "Reserved contracts in Gabrovo" in text  # no Bulgarian text: English, marked
    assert "Sociale klausuler" in text
    # Chapters in programme order: Bergamo, the webinar (same week), then Gabrovo.
    assert text.index("Домашни грижи") < text.index("Reserved contracts in Gabrovo")
    pages = text.split("\f")
    assert len(pages) >= 5  # cover, contents, three chapters


def test_the_pdf_is_built_once_per_content(client, app, missions, tmp_path, monkeypatch):
    """Anyone may download the booklet: asking again must not cost a worker WeasyPrint's second."""
    built = count_booklet_builds(monkeypatch)
    bergamo, gabrovo, _ = missions
    publish(bergamo, "Bergamo", "IT", [("en", "Home care services", "Care at home")])

    first = client.get("/practices/document.pdf?lang=en")
    again = client.get("/practices/document.pdf?lang=en")
    assert again.data == first.data and len(built) == 1
    italian = client.get("/practices/document.pdf?lang=it")
    assert italian.status_code == 200 and len(built) == 2

    publish(gabrovo, "Gabrovo", "BG", [("en", "Reserved contracts in Gabrovo", "Work")])
    changed = client.get("/practices/document.pdf?lang=en")
    assert len(built) == 3
    assert "Reserved contracts in Gabrovo" in text_of_pdf(changed.data, tmp_path)


def test_the_document_marks_english_fallback_in_every_language(client, app, missions, tmp_path):
    publish(missions[0], "Bergamo", "IT", [("en", "Home care services", "Care at home")])
    english = text_of_pdf(client.get("/practices/document.pdf?lang=en").data, tmp_path)
    spanish = text_of_pdf(client.get("/practices/document.pdf?lang=es").data, tmp_path)
    assert "Home care services" in english and "Home care services" in spanish
    assert "English" not in english.split("Home care services")[1][:200]
    assert "inglés" in spanish.split("Home care services")[1][:200]  # named in Spanish


def test_the_document_as_one_printable_page(client, app, missions):
    publish(missions[0], "Bergamo", "IT", [("en", "Home care services", "Care")])
    page = client.get("/practices/document?lang=it").text
    assert '<html lang="it">' in page
    assert "Home care services" in page and 'lang="en"' in page
    assert "/practices/document.pdf?lang=it" in page


def test_the_document_refuses_an_unknown_language(client, app):
    response = client.get("/practices/document.pdf?lang=xx")
    assert response.status_code == 400
    assert "Unknown language" in response.text


def test_organisers_attach_documents_that_readers_download(client, app, make_user, auth, missions):
    practice = publish(missions[0], "Bergamo", "IT", [("it", "Assistenza", "x")])
    make_user("organiser")
    auth.login("organiser@example.org")
    pdf = b"%PDF-1.4 a tender"
    response = client.post(
        f"/practices/{practice.id}/documents",
        data={"document": (io.BytesIO(b"#!/bin/sh"), "tender.sh")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Attach a PDF" in response.text
    response = client.post(
        f"/practices/{practice.id}/documents",
        data={"document": (io.BytesIO(pdf), "Capitolato d'appalto.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.refresh(practice)
    (document,) = practice.documents
    auth.logout()
    page = client.get(f"/practices/{practice.id}").text
    assert "Capitolato d&#39;appalto.pdf" in page
    download = client.get(f"/practices/{practice.id}/documents/{document.id}")
    assert download.data == pdf and download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    assert storage().exists(document.storage_key)
    practices.remove(practice)
    assert not storage().exists(document.storage_key)
    assert client.get(f"/practices/{practice.id}/documents/{document.id}").status_code == 404


@pytest.mark.parametrize("language", ["en", "bg", "it", "pt", "da", "sv", "es"])
def test_the_document_in_each_language(client, app, missions, tmp_path, language):
    publish(missions[0], "Bergamo", "IT", [("en", "Home care services", "Care at home")])
    publish(missions[1], "Gabrovo", "BG", [(language, f"Practice written in {language}", "x")])
    text = text_of_pdf(client.get(f"/practices/document.pdf?lang={language}").data, tmp_path)
    with app.test_request_context(), force_locale(language):
        title = gettext("Socially responsible public procurement: best practices")
        contents = gettext("Contents")
    assert " ".join(title.split()[:3]) in " ".join(text.split())
    assert contents in text
    assert f"Practice written in {language}" in text
    english = Locale.parse(language).languages["en"]  # "English" named in the reader's language
    fallback_marked = english in text.split("Home care services")[1][:300]
    assert fallback_marked == (language != "en")


class _PostForm(HTMLParser):
    """The fields of a page's POST form as the browser would send them back unchanged."""

    def __init__(self):
        super().__init__()
        self.fields, self._in_post_form, self._textarea = {}, False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_post_form = attrs.get("method") == "post"
        elif self._in_post_form and tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif self._in_post_form and tag == "textarea":
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_post_form = False
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def sent_back(page: str) -> dict:
    """The translation form's fields as shown on the page."""
    parser = _PostForm()
    parser.feed(page)
    # HTML drops a textarea's first line break; WTForms writes one before the text.
    return {
        name: value.removeprefix("\r\n")
        for name, value in parser.fields.items()
        if name in ("language", "revising", "seen", "title", "summary", "clause", "results")
    }


ITALIAN = (
    "it",
    "Assistenza domiciliare",
    "Primo paragrafo.\n\nSecondo paragrafo.",
    "Clausola sociale",
    "Quaranta persone",
)


def test_a_translation_opens_on_the_chosen_languages_text(client, app, make_user, auth, missions):
    practice = publish(
        missions[0], "Bergamo", "IT", [ITALIAN, ("en", "Home care", "Care", "Clause", "Forty")]
    )
    make_user("organiser")
    auth.login("organiser@example.org")
    italian = sent_back(client.get(f"/practices/{practice.id}/text?lang=it").text)
    assert italian.pop("seen")  # what the page showed, to compare with on saving
    assert italian == {
        "language": "it",
        "revising": "1",
        "title": "Assistenza domiciliare",
        "summary": "Primo paragrafo.\n\nSecondo paragrafo.",
        "clause": "Clausola sociale",
        "results": "Quaranta persone",
    }
    # Without a choice: the organiser's own language, here English.
    assert sent_back(client.get(f"/practices/{practice.id}/text").text)["title"] == "Home care"
    new = sent_back(client.get(f"/practices/{practice.id}/text?lang=pt").text)
    assert new["language"] == "pt" and new["revising"] == "" and new["summary"] == ""


def test_correcting_one_field_of_a_translation_keeps_the_others(
    client, app, make_user, auth, missions
):
    practice = publish(missions[0], "Bergamo", "IT", [ITALIAN])
    make_user("organiser")
    auth.login("organiser@example.org")
    url = f"/practices/{practice.id}/text?lang=it"
    form = sent_back(client.get(url).text)
    response = client.post(url, data=form | {"title": "Assistenza domiciliare (corretto)"})
    assert response.status_code == 302
    (text,) = practice.texts
    db.session.refresh(text)
    assert (text.title, text.summary, text.clause, text.results) == (
        "Assistenza domiciliare (corretto)",
        *ITALIAN[2:],
    )
    # A form opened for a new text (say the Italian was saved meanwhile) erases nothing blank.
    client.post(url, data={"language": "it", "title": "Assistenza a domicilio"})
    db.session.refresh(text)
    assert (text.title, text.summary, text.clause, text.results) == (
        "Assistenza a domicilio",
        *ITALIAN[2:],
    )
    # Cleared on purpose in the text as shown: cleared.
    client.post(url, data=sent_back(client.get(url).text) | {"results": ""})
    db.session.refresh(text)
    assert text.results == "" and text.summary == ITALIAN[2]
    # The title stays required: nothing changes.
    response = client.post(url, data=sent_back(client.get(url).text) | {"title": "", "clause": ""})
    assert response.status_code == 422 and "Enter a title." in response.text
    db.session.refresh(text)
    assert text.title == "Assistenza a domicilio" and text.clause == "Clausola sociale"


def texts_now(practice) -> dict:
    db.session.expire_all()
    (text,) = db.session.scalars(
        select(PracticeText).where(PracticeText.practice_id == practice.id)
    )
    return {name: getattr(text, name) for name in ("title", "summary", "clause", "results")}


@pytest.fixture
def two_organisers(app, make_user, missions):
    """Two organisers' browsers, each signed in (Anna, Bruno), and an Italian practice."""
    browsers = []
    for name in ("anna", "bruno"):
        make_user("organiser", f"{name}@example.org")
        browser = app.test_client()
        assert AuthActions(browser).login(f"{name}@example.org").status_code == 302
        browsers.append(browser)
    return (*browsers, publish(missions[0], "Bergamo", "IT", [ITALIAN]))


def test_two_organisers_correcting_one_text_keep_each_others_corrections(two_organisers):
    anna, bruno, practice = two_organisers
    url = f"/practices/{practice.id}/text?lang=it"
    annas_page, brunos_page = sent_back(anna.get(url).text), sent_back(bruno.get(url).text)

    assert bruno.post(url, data=brunos_page | {"results": "Cinquanta persone"}).status_code == 302
    assert anna.post(url, data=annas_page | {"title": "Assistenza a domicilio"}).status_code == 302

    assert texts_now(practice) == {
        "title": "Assistenza a domicilio",
        "summary": ITALIAN[2],
        "clause": ITALIAN[3],
        "results": "Cinquanta persone",  # not put back by Anna's page, which still showed it
    }


def test_a_field_both_changed_saves_nothing_and_shows_what_it_holds_now(two_organisers):
    anna, bruno, practice = two_organisers
    url = f"/practices/{practice.id}/text?lang=it"
    annas_page, brunos_page = sent_back(anna.get(url).text), sent_back(bruno.get(url).text)
    assert bruno.post(url, data=brunos_page | {"clause": "Clausola di Bruno"}).status_code == 302

    refused = anna.post(
        url, data=annas_page | {"clause": "Clausola di Anna", "title": "Titolo di Anna"}
    )

    assert refused.status_code == 422
    page = refused.text
    assert "Someone else saved this text after you opened the page: nothing was saved." in page
    assert "it is now: Clausola di Bruno. Save again to replace it with what you entered." in page
    assert texts_now(practice)["clause"] == "Clausola di Bruno"
    assert texts_now(practice)["title"] == ITALIAN[1]  # nothing of Anna's was saved
    again = sent_back(page)
    assert (again["clause"], again["title"]) == ("Clausola di Anna", "Titolo di Anna")

    # Saving again, knowingly: Anna's entries replace Bruno's clause.
    assert anna.post(url, data=again).status_code == 302
    assert texts_now(practice) | {"summary": None} == {
        "title": "Titolo di Anna",
        "summary": None,
        "clause": "Clausola di Anna",
        "results": ITALIAN[4],
    }


def test_a_correction_saved_while_anothers_save_is_under_way_is_not_overwritten(
    two_organisers, monkeypatch
):
    """Bruno's save commits after Anna's request read the text, before her save locks the
    practice: the text her request read stays in its session, and must not be what her
    changes are compared with."""
    anna, bruno, practice = two_organisers
    url = f"/practices/{practice.id}/text?lang=it"
    annas_page, brunos_page = sent_back(anna.get(url).text), sent_back(bruno.get(url).text)
    save_text = practices.save_text
    bruno_saved, started = [], []

    def bruno_saves_first(*args, **kwargs):
        if not started:  # Anna's save: Bruno's request runs, and commits, first
            started.append(True)
            thread = threading.Thread(
                target=lambda: bruno_saved.append(
                    bruno.post(url, data=brunos_page | {"clause": "Clausola di Bruno"}).status_code
                )
            )
            thread.start()
            thread.join(30)
        return save_text(*args, **kwargs)

    monkeypatch.setattr(practices, "save_text", bruno_saves_first)

    annas = anna.post(url, data=annas_page | {"clause": "Clausola di Anna"})

    assert bruno_saved == [302]
    assert texts_now(practice)["clause"] == "Clausola di Bruno"  # not overwritten unseen
    assert annas.status_code == 422  # Anna is told, as when Bruno saved a moment earlier


def test_a_new_text_written_by_two_organisers_at_once_is_not_overwritten(two_organisers):
    anna, bruno, practice = two_organisers
    url = f"/practices/{practice.id}/text?lang=pt"
    annas_page, brunos_page = sent_back(anna.get(url).text), sent_back(bruno.get(url).text)
    assert annas_page["revising"] == ""
    saved = bruno.post(url, data=brunos_page | {"title": "Apoio domiciliário", "summary": "Bruno"})
    assert saved.status_code == 302

    refused = anna.post(url, data=annas_page | {"title": "Cuidados ao domicílio"})

    assert refused.status_code == 422
    assert "it is now: Apoio domiciliário." in refused.text
    db.session.expire_all()
    portuguese = db.session.scalar(
        select(PracticeText).where(
            PracticeText.practice_id == practice.id, PracticeText.language == "pt"
        )
    )
    assert (portuguese.title, portuguese.summary) == ("Apoio domiciliário", "Bruno")


def test_organisers_read_a_proposal_in_full_before_deciding(
    client, app, member, make_user, auth, missions
):
    proposal = practices.propose(
        PracticeInput(
            city="Габрово",
            country="BG",
            procurement_type=ProcurementType.RESERVED,
            event_id=missions[0].id,
            contact="Ана Петрова, отдел обществени поръчки",
            texts=[TextInput("bg", "Запазени поръчки", "Резюме", "ТЕКСТ НА КЛАУЗАТА", "РЕЗУЛТАТИ")],
        ),
        member,
    )
    assert client.get(f"/practices/{proposal.id}").status_code == 404  # not for the public
    signed_in(client, member)
    assert client.get(f"/practices/{proposal.id}").status_code == 404  # nor for its proposer
    make_user("organiser")
    auth.login("organiser@example.org")
    listed = client.get("/practices/review").text
    assert f'href="/practices/{proposal.id}"' in listed
    assert "Reserved contract" in listed and "Study mission to Bergamo" in listed
    page = client.get(f"/practices/{proposal.id}").text
    for shown in (
        "Запазени поръчки",
        "ТЕКСТ НА КЛАУЗАТА",
        "РЕЗУЛТАТИ",
        "Ана Петрова, отдел обществени поръчки",
        "Study mission to Bergamo",
        "Reserved contract",
        "Ana Petrova",  # who proposed it
        "A proposal waiting for review",
        'name="note"',
    ):
        assert shown in page, shown
    practices.review(proposal, accept=False)
    assert "A rejected proposal" in client.get(f"/practices/{proposal.id}").text


def test_the_review_buttons_name_their_practice(client, app, member, make_user, auth, missions):
    for title in ("Запазени поръчки", "Социални клаузи"):
        practices.propose(
            PracticeInput("Габрово", "BG", ProcurementType.WORKS, texts=[TextInput("bg", title)]),
            member,
        )
    make_user("organiser")
    auth.login("organiser@example.org")
    page = client.get("/practices/review").text
    for title in ("Запазени поръчки", "Социални клаузи"):
        for action in ("Publish", "Reject", "Read the whole proposal"):
            named = f'{action}<span class="visually-hidden"> <span lang="bg">{title}</span></span>'
            assert named in page
    assert ">Publish</button>" not in page and ">Reject</button>" not in page


MULTI_PARAGRAPH = "Primo paragrafo.\n\nSecondo paragrafo.\n- punto uno\n- punto due\nUltima riga."
AS_HTML = (
    "<p>Primo paragrafo.</p>\n<p>Secondo paragrafo.</p>\n"
    "<ul><li>punto uno</li><li>punto due</li></ul>\n<p>Ultima riga.</p>"
)


def test_paragraphs_and_lists_stay_apart_on_every_page(
    client, app, member, make_user, auth, missions, tmp_path
):
    practice = publish(
        missions[0], "Bergamo", "IT", [("it", "Refezione", MULTI_PARAGRAPH, "<b>x</b>")]
    )
    for page in (client.get(f"/practices/{practice.id}"), client.get("/practices/document")):
        assert AS_HTML in page.text
        assert "&lt;b&gt;x&lt;/b&gt;" in page.text  # still escaped
    pdf = text_of_pdf(client.get("/practices/document.pdf?lang=it").data, tmp_path)
    lines = [line.strip() for line in pdf.splitlines()]
    assert "Primo paragrafo." in lines and "Secondo paragrafo." in lines
    assert any(line.endswith("punto uno") for line in lines)  # a list item on its own line
    practices.propose(
        PracticeInput(
            "Bergamo",
            "IT",
            ProcurementType.WORKS,
            texts=[TextInput("it", "Pasti", MULTI_PARAGRAPH)],
        ),
        member,
    )
    make_user("organiser")
    auth.login("organiser@example.org")
    assert AS_HTML in client.get("/practices/review").text


def test_event_descriptions_use_the_same_paragraphs(client, app, make_event):
    event = make_event(description="Day one.\n\nWe visit:\n- the canteen\n- the farm")
    page = client.get(f"/events/{event.slug}").text
    assert (
        "<p>Day one.</p>\n<p>We visit:</p>\n<ul><li>the canteen</li><li>the farm</li></ul>" in page
    )


def test_mission_names_follow_the_readers_language_in_forms(client, app, member, missions):
    client.post("/language", data={"language": "bg"})
    assert ">Учебна мисия в Бергамо</option>" in client.get("/practices").text
    signed_in(client, member)
    assert ">Учебна мисия в Бергамо</option>" in client.get("/practices/propose").text


@pytest.mark.parametrize("filename", ["Договор_Габрово.pdf", "Capitolato_Città_Ærø.pdf"])
def test_documents_with_any_name_download_through_a_real_server(
    app, missions, live_server, filename
):
    """A real server refuses headers that are not Latin-1 (gunicorn: not ASCII), which the
    test client lets through: the name must travel as RFC 6266 and 5987 say."""
    practice = publish(missions[0], "Bergamo", "IT", [("it", "Assistenza", "x")])
    document = practices.attach(practice, filename, b"%PDF-1.4 a tender")
    url = f"{live_server}/practices/{practice.id}/documents/{document.id}"
    with urllib.request.urlopen(url) as response:
        header, body = response.headers["Content-Disposition"], response.read()
    assert body == b"%PDF-1.4 a tender"
    assert header.isascii()
    assert parse_options_header(header) == ("attachment", {"filename": filename})


def test_a_draft_events_title_stays_out_of_the_library_and_the_proposal_form(
    client, app, member, make_event, missions
):
    """The library's filter and the proposal form listed every event: a draft's title was
    public before the organisers published it, and a proposal could name it."""
    draft = make_event(title="Secret mission to Cádiz", status=EventStatus.DRAFT)
    assert "Secret mission" not in client.get("/practices").text
    signed_in(client, member)
    assert "Secret mission" not in client.get("/practices/propose").text
    data = {
        "city": "Cádiz",
        "country": "ES",
        "event": str(draft.id),
        "procurement_type": "reserved",
        "language": "es",
        "title": "Contratos reservados",
        "summary": "Ayuntamiento de Cádiz",
    }
    assert client.post("/practices/propose", data=data).status_code == 422
    assert db.session.scalar(select(Practice)) is None
