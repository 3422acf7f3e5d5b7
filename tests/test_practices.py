"""The library of practices through its pages, and the best-practice document read back."""

import io
import subprocess
from datetime import timedelta

import pytest
from babel import Locale
from flask_babel import force_locale, gettext
from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import (
    EventKind,
    Member,
    MemberStatus,
    Practice,
    ProcurementType,
    TargetGroup,
    utcnow,
)
from eventreg.services import members, practices
from eventreg.services.practices import PracticeInput, TextInput
from eventreg.services.storage import storage
from tests.support.booklet import count_booklet_builds


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
    found = Member(
        email="ana@example.bg",
        name="Ana Petrova",
        country="BG",
        target_group=TargetGroup.LOCAL_REGIONAL_AUTHORITY,
        language="bg",
        status=MemberStatus.ACTIVE,
    )
    db.session.add(found)
    db.session.commit()
    return found


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
