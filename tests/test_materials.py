"""Event materials: typed from their content, shown to whom they are meant for, announced once."""

import io
import re
import urllib.request

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.http import parse_options_header
from werkzeug.test import encode_multipart

from eventreg.extensions import db
from eventreg.models import Event, Material, MessageKind, OutboxMessage, SkipReason
from eventreg.services import accounts, materials, outbox, privacy, registrations
from eventreg.services.manage_links import manage_token
from eventreg.services.storage import storage
from tests.support.after_event import end_event
from tests.support.factories import PASSWORD
from tests.support.locks import twice_at_once
from tests.support.mail import smtp_config

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
# The start of a Windows executable (MZ header, PE signature): what a renamed .exe looks like.
EXECUTABLE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 44
    + (b"\x80\x00\x00\x00" + b"\x00" * 64 + b"PE\x00\x00L\x01\x03\x00")
    + b"\x00" * 400
)


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


@pytest.fixture
def organiser(app, make_user):
    user = make_user("organiser")
    return user, accounts.issue_api_token(user)


def upload(client, token, slug, **fields):
    return client.post(
        f"/api/v1/events/{slug}/materials",
        data=fields,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def stored_files(app) -> list:
    root = storage().root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def material_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Material))


def test_api_upload_of_a_pdf_gives_201_and_the_item(app, client, organiser, make_event):
    event = make_event()
    _, token = organiser

    response = upload(
        client,
        token,
        event.slug,
        file=(io.BytesIO(PDF), "Slides Bergamo.pdf"),
        title="Slides",
        title_bg="Презентация",
        visibility="public",
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert body["kind"] == "file"
    assert body["content_type"] == "application/pdf"
    assert body["filename"] == "Slides Bergamo.pdf"
    assert body["titles"] == {"en": "Slides", "bg": "Презентация"}
    assert body["size"] == len(PDF)
    download = client.get(f"/events/{event.slug}/materials/{body['id']}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    # The download's own sandboxed policy, not the pages' one next to it.
    assert download.headers.getlist("Content-Security-Policy") == ["default-src 'none'; sandbox"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_executable_renamed_pdf_is_refused_and_nothing_is_kept(app, client, organiser, make_event):
    event = make_event()
    _, token = organiser

    response = upload(
        client,
        token,
        event.slug,
        file=(io.BytesIO(EXECUTABLE), "agenda.pdf"),
        title="Agenda",
        visibility="public",
    )

    assert response.status_code == 422
    assert "file" in response.json["errors"]
    assert "whatever its name says" in response.json["errors"]["file"][0]
    assert material_count() == 0
    assert stored_files(app) == []


def test_image_named_pdf_is_stored_as_what_it_is(app, client, organiser, make_event):
    _, token = organiser
    response = upload(
        client,
        token,
        make_event().slug,
        file=(io.BytesIO(PNG), "photo.pdf"),
        title="Group photo",
        visibility="public",
    )

    assert response.status_code == 201
    assert response.json["content_type"] == "image/png"
    assert response.json["filename"] == "photo.png"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "Nothing"}, "url"),
        ({"url": "javascript:alert(1)", "title": "x"}, "url"),
        ({"url": "https://example.org/rec", "title": ""}, "title"),
        ({"url": "https://example.org/rec", "title": "x", "visibility": "secret"}, "visibility"),
    ],
)
def test_api_refuses_incomplete_items_with_field_errors(
    app, client, organiser, make_event, fields, field
):
    _, token = organiser
    response = upload(client, token, make_event().slug, **fields)

    assert response.status_code == 422
    assert field in response.json["errors"]
    assert material_count() == 0


def test_api_needs_an_organiser_token(app, client, make_event, make_user):
    event = make_event()
    fields = {"url": "https://example.org/rec", "title": "Recording"}
    assert upload(client, "not-a-token", event.slug, **fields).status_code == 401
    checkin_token = accounts.issue_api_token(make_user("checkin"))
    assert upload(client, checkin_token, event.slug, **fields).status_code == 403
    assert material_count() == 0


def test_file_larger_than_the_limit_is_refused(app, client, organiser, make_event):
    app.config["MATERIALS_MAX_MB"] = 1
    _, token = organiser
    big = PDF + b"\0" * (1024 * 1024)
    # Encoded in memory: Werkzeug's test client would spool a body this size to a file it
    # never closes.
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(big), "big.pdf"), "title": "Big"}
    )
    response = client.post(
        f"/api/v1/events/{make_event().slug}/materials",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 422
    assert "1 MB" in response.json["errors"]["file"][0]
    assert material_count() == 0


def test_public_list_shows_public_items_and_registrants_see_theirs(
    app, client, organiser, make_event, sign_up
):
    event = make_event()
    _, token = organiser
    upload(
        client,
        token,
        event.slug,
        url="https://example.org/rec",
        title="Recording",
        title_it="Registrazione",
        visibility="public",
    )
    private = upload(
        client,
        token,
        event.slug,
        file=(io.BytesIO(PDF), "list.pdf"),
        title="Contact list",
        visibility="registrants",
    ).json
    registrant = sign_up(event)
    reference = registrant.registrations[0].reference
    manage = manage_token(registrant)

    public = client.get(f"/events/{event.slug}/materials").get_data(as_text=True)
    assert "Recording" in public and "Contact list" not in public
    italian = client.get(
        f"/events/{event.slug}/materials", headers={"Accept-Language": "it"}
    ).get_data(as_text=True)
    assert "Registrazione" in italian
    assert client.get(f"/events/{event.slug}/materials/{private['id']}").status_code == 404

    page = client.get(f"/manage/{manage}").get_data(as_text=True)
    assert f"/manage/{manage}/materials/{reference}" in page
    theirs = client.get(f"/manage/{manage}/materials/{reference}").get_data(as_text=True)
    assert "Contact list" in theirs and "Recording" in theirs
    download = client.get(f"/manage/{manage}/materials/{reference}/{private['id']}")
    assert download.status_code == 200 and download.data == PDF
    assert client.get(f"/manage/forged/materials/{reference}/{private['id']}").status_code == 404


def test_announce_mails_confirmed_registrants_once(
    app, client, smtp, organiser, make_event, sign_up
):
    event = make_event(capacity=1)
    confirmed = sign_up(event, language="it")
    sign_up(event)  # waiting list: not told
    outbox.deliver_all()  # the sign-up e-mails
    smtp.inbox.wait_for(2)
    smtp.inbox.envelopes.clear()
    runner = app.test_cli_runner()

    assert "Queued 1 e-mail(s)." in runner.invoke(args=["materials", "announce", event.slug]).output
    assert "Queued 0 e-mail(s)." in runner.invoke(args=["materials", "announce", event.slug]).output
    outbox.deliver_all()
    db.session.rollback()

    (message,) = smtp.inbox.wait_for(1)
    assert message["To"].addresses[0].addr_spec == confirmed.email
    assert (
        f"http://eventreg.test/events/{event.slug}/materials"
        in message.get_body(("plain",)).get_content()
    )
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds.count(MessageKind.MATERIALS_AVAILABLE) == 1


@pytest.mark.postgresql_only  # SQLite's BEGIN IMMEDIATE runs the two one after the other
def test_two_organisers_announcing_at_once_send_each_email_once(
    app, make_event, sign_up, monkeypatch
):
    event = make_event()
    sign_up(event)
    event_id = event.id
    db.session.rollback()

    def announce():
        return materials.announce(db.session.get(Event, event_id))

    counts, errors = twice_at_once(app, monkeypatch, materials, announce)
    assert errors == [] and sorted(counts) == [0, 1]
    told = select(func.count()).where(OutboxMessage.kind == MessageKind.MATERIALS_AVAILABLE)
    assert db.session.scalar(told) == 1


def test_organiser_page_adds_a_link_and_refuses_a_disguised_file(
    app, client, auth, make_user, make_event
):
    event = make_event()
    make_user("organiser")
    auth.login("organiser@example.org")
    url = f"/admin/events/{event.slug}/materials"

    refused = client.post(
        url,
        data={
            "file": (io.BytesIO(EXECUTABLE), "slides.pdf"),
            "title": "Slides",
            "visibility": "public",
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "whatever its name says" in refused.get_data(as_text=True)
    added = client.post(
        url,
        data={"url": "https://example.org/rec", "title": "Recording", "visibility": "registrants"},
    )
    assert added.status_code == 302
    (material,) = db.session.scalars(select(Material)).all()
    assert material.is_link and not material.is_public
    client.post(f"{url}/{material.id}/delete")
    assert material_count() == 0


def test_organiser_pages_are_for_organisers(app, client, auth, make_user, make_event):
    event = make_event()
    url = f"/admin/events/{event.slug}/materials"
    assert client.get(url).status_code == 302  # to the login page
    make_user("checkin", "door@example.org")
    auth.login("door@example.org")
    assert client.get(url).status_code == 403
    assert client.post(f"{url}/announce").status_code == 403


def test_organiser_uploads_announces_and_removes_a_file(
    app, client, auth, make_user, make_event, sign_up
):
    event = make_event()
    sign_up(event)
    make_user("organiser")
    auth.login("organiser@example.org")
    url = f"/admin/events/{event.slug}/materials"

    added = client.post(
        url,
        data={"file": (io.BytesIO(PDF), "slides.pdf"), "title": "Slides", "visibility": "public"},
        content_type="multipart/form-data",
    )
    assert added.status_code == 302
    (material,) = db.session.scalars(select(Material)).all()
    assert len(stored_files(app)) == 1
    assert client.get(f"{url}/{material.id}").data == PDF

    assert client.post(f"{url}/announce").status_code == 302
    client.post(f"{url}/announce")
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds.count(MessageKind.MATERIALS_AVAILABLE) == 1

    client.post(f"{url}/{material.id}/delete")
    assert material_count() == 0
    assert stored_files(app) == []


def test_no_announcement_to_people_whose_data_was_purged(app, make_event, sign_up):
    event = make_event()
    sign_up(event)
    end_event(event, days_ago=app.config["RETENTION_DAYS"] + 1)
    assert privacy.purge() == 1

    assert materials.announce(event) == 0


def test_waiting_list_and_other_events_do_not_open_registrants_only_items(
    app, client, organiser, make_event, sign_up
):
    event, other = make_event(capacity=1), make_event()
    _, token = organiser
    private = upload(
        client,
        token,
        event.slug,
        file=(io.BytesIO(PDF), "list.pdf"),
        title="Contact list",
        visibility="registrants",
    ).json
    sign_up(event)
    waiting = sign_up(event)
    elsewhere = sign_up(other)

    for registrant in (waiting, elsewhere):
        manage = manage_token(registrant)
        reference = registrant.registrations[0].reference
        assert (
            client.get(f"/manage/{manage}/materials/{reference}/{private['id']}").status_code == 404
        )
        if registrant is elsewhere:
            page = client.get(f"/manage/{manage}/materials/{reference}").get_data(as_text=True)
            assert "Contact list" not in page


def test_a_write_on_the_strength_of_a_staff_session_needs_the_csrf_token(
    make_app, make_user, make_event
):
    """Another site cannot make a signed-in organiser's browser publish a material."""
    app = make_app(WTF_CSRF_ENABLED=True)
    browser = app.test_client()
    with app.app_context():
        slug = make_event().slug
        make_user("organiser")
    page = browser.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    login = {"email": "organiser@example.org", "password": PASSWORD, "csrf_token": token}
    assert browser.post("/login", data=login).status_code == 302
    link = {"title": "Slides", "url": "https://example.org/slides", "visibility": "public"}
    path = f"/api/v1/events/{slug}/materials"

    refused = browser.post(path, data=link, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 400
    with_any_header = browser.post(path, data=link, headers={"Authorization": "Basic eA=="})
    assert with_any_header.status_code == 400  # the session still authenticates it
    assert refused.get_json()["error"] == "csrf_token_missing_or_invalid"
    with app.app_context():
        assert material_count() == 0
    page = browser.get("/admin/events/new").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    assert browser.post(path, data=link, headers={"X-CSRFToken": token}).status_code == 201


def test_a_material_with_a_cyrillic_name_downloads_through_a_real_server(
    app, client, organiser, make_event, live_server
):
    """gunicorn refuses a header that is not ASCII (the test client does not): the name goes
    as RFC 6266 and 5987 say, and comes back whole."""
    event = make_event()
    _, token = organiser
    name = "Презентация_Габрово_Città.pdf"
    body = upload(
        client, token, event.slug, file=(io.BytesIO(PDF), name), title="Slides", visibility="public"
    ).json
    url = f"{live_server}/events/{event.slug}/materials/{body['id']}"
    with urllib.request.urlopen(url) as response:
        header, data = response.headers["Content-Disposition"], response.read()
    assert data == PDF and header.isascii()
    assert parse_options_header(header) == ("attachment", {"filename": name})


def test_an_announcement_still_queued_when_the_person_cancels_is_not_sent(
    app, smtp, make_event, sign_up
):
    """The slides went out before the mission; one person cancelled before the e-mail left:
    it told them of materials for registrants they no longer are."""
    event = make_event()
    staying, leaving = sign_up(event), sign_up(event)
    outbox.deliver_all()
    smtp.inbox.wait_for(2)
    smtp.inbox.envelopes.clear()
    assert materials.announce(event) == 2
    registrations.cancel(leaving.registrations[0])
    outbox.deliver_all()
    db.session.rollback()
    told = {m["To"].addresses[0].addr_spec for m in smtp.inbox.wait_for(2)}
    assert told == {staying.email, leaving.email}  # her cancellation, his announcement
    skipped = db.session.scalar(
        select(OutboxMessage.skip_reason).where(
            OutboxMessage.registration_id == leaving.registrations[0].id,
            OutboxMessage.kind == MessageKind.MATERIALS_AVAILABLE,
        )
    )
    assert skipped is SkipReason.REGISTRATION_CANCELLED
