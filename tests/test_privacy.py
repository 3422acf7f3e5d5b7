"""Personal data: download, erasure, retention purge; security headers."""

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from eventreg import create_app
from eventreg.database import write_transaction
from eventreg.extensions import db
from eventreg.models import (
    AuditEntry,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    TargetGroup,
    utcnow,
)
from eventreg.services import members, messages, outbox, privacy, registrations
from eventreg.services.manage_links import manage_token
from tests.support.after_event import end_event
from tests.support.database import base_config


def manage_path(registrant):
    return f"/manage/{manage_token(registrant)}"


def test_a_person_downloads_everything_held_about_them(client, make_event, sign_up):
    registrant = sign_up(make_event(), first_name="Søren", needs="Step-free access")
    response = client.get(manage_path(registrant) + "/data.json")
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = response.get_json()
    assert data["person"]["first_name"] == "Søren"
    assert data["person"]["needs"] == "Step-free access"
    assert data["consent"]["privacy_notice_version"] == "test"
    assert data["registrations"][0]["reference"] == registrant.registrations[0].reference
    assert data["emails"][0]["kind"] == "confirmation"
    assert data["history"][0]["action"] == "signed_up"


def test_the_data_download_names_events_in_the_persons_language(client, make_event, sign_up):
    event = make_event(title="Study mission", translations={"da": {"title": "Studietur"}})
    registrant = sign_up(event, language="da")
    data = client.get(manage_path(registrant) + "/data.json").get_json()
    assert data["registrations"][0]["event_title"] == "Studietur"


def test_erasing_cancels_frees_the_seat_and_forgets_the_person(client, make_event, sign_up):
    event = make_event(capacity=1)
    person = sign_up(event, first_name="Erika", email="erika@example.se", country="SE")
    waiting = sign_up(event)
    token_path = manage_path(person)
    old_ticket = person.registrations[0].ticket_secret
    assert client.post(token_path + "/erase", data={}).status_code == 302  # not confirmed
    response = client.post(token_path + "/erase", data={"confirm": "y"})
    assert "Your data is erased" in response.text
    db.session.expire_all()
    assert (person.first_name, person.email, person.organisation) == ("", "", "")
    assert person.is_purged and person.country == "SE"  # counts for the reports remain
    assert person.registrations[0].status is RegistrationStatus.CANCELLED
    assert person.registrations[0].ticket_secret != old_ticket
    assert waiting.registrations[0].is_confirmed
    assert client.get(token_path).status_code == 404
    recipients = db.session.scalars(select(OutboxMessage.recipient)).all()
    assert "erika@example.se" not in recipients


def test_organisers_download_and_erase_on_request(client, auth, make_user, make_event, sign_up):
    make_user("organiser")
    auth.login("organiser@example.org")
    registrant = sign_up(make_event(), email="asked@example.org")
    reference = registrant.registrations[0].reference
    data = client.get(f"/admin/registrations/{reference}/data.json").get_json()
    assert data["person"]["email"] == "asked@example.org"
    client.post(f"/admin/registrations/{reference}/erase", data={"confirm": "y"})
    db.session.refresh(registrant)
    assert registrant.is_purged and registrant.email == ""
    assert "erased" in client.get(f"/admin/registrations/{reference}").text


def test_purge_after_the_retention_period_keeps_the_counts(app, runner, make_event, sign_up, added):
    old = make_event(
        starts_at=utcnow() - timedelta(days=400),
        ends_at=utcnow() - timedelta(days=399),
        registration_opens_at=utcnow() - timedelta(days=500),
        registration_closes_at=utcnow() + timedelta(days=1),
    )
    recent = make_event()
    gone = added(old, country="BG", target_group="public_body").registrant
    both = added(old).registrant
    registrations.add_events(both, [recent])
    kept = sign_up(recent)

    dry = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert f"would purge registrant {gone.id}" in dry.output
    assert "1 registrant(s) would be anonymised" in dry.output
    db.session.refresh(gone)
    assert not gone.is_purged

    assert "Anonymised 1 registrant(s)" in runner.invoke(args=["privacy", "purge"]).output
    db.session.expire_all()
    assert gone.is_purged and gone.first_name == "" and gone.country == "BG"
    assert not both.is_purged and not kept.is_purged
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 4


@pytest.mark.parametrize("path", ["/", "/register", "/api/v1/events", "/nope", "/login"])
def test_security_headers_on_every_response(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP here


def test_https_behind_a_proxy(make_app):
    app = make_app(HTTPS=True, TRUSTED_PROXIES=1)
    with app.app_context():
        client = app.test_client()
        response = client.get("/register", headers={"X-Forwarded-Proto": "https"})
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Secure" in response.headers["Set-Cookie"]


def test_a_host_outside_trusted_hosts_gets_400_on_every_path(make_app, make_event):
    """With TRUSTED_HOSTS set, another Host header is refused (not a 500 from the error page)."""
    app = make_app(TRUSTED_HOSTS=["events.example.org"])
    with app.app_context():
        event = make_event()
        client = app.test_client()
        ours = {"Host": "events.example.org"}
        for _ in range(3):  # stored for visitors of our host
            assert client.get("/", headers=ours).status_code == 200
        other = {"Host": "attacker.example"}
        for path in ("/", f"/events/{event.slug}", "/register", "/nowhere", "/admin/"):
            response = client.get(path, headers=other)
            assert response.status_code == 400, path
            assert response.mimetype == "text/plain", path
        response = client.get("/api/v1/events", headers=other)
        assert response.status_code == 400
        assert response.get_json()["error"] == "bad_request"
        assert client.post("/register", headers=other).status_code == 400


def test_without_trusted_proxies_forwarded_headers_are_ignored(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


def saved_mail(app) -> dict[str, bytes]:
    """The .eml files the file transport saved, by name."""
    folder = Path(app.instance_path) / "mail"
    return {path.name: path.read_bytes() for path in folder.glob("*")}


def mode(path) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


def test_erasure_deletes_the_persons_saved_mail(app, client, make_event, sign_up):
    event = make_event()
    erika = sign_up(event, first_name="Erika", email="erika@example.se")
    other = sign_up(event, first_name="Other", email="other@example.org")
    assert outbox.deliver_all().sent == 2
    assert any(b"erika@example.se" in body for body in saved_mail(app).values())

    privacy.erase(erika)

    files = saved_mail(app)
    assert len(files) == 1
    assert not any(b"erika@example.se" in body or b"Erika" in body for body in files.values())
    assert other.email.encode() in next(iter(files.values()))


def test_the_retention_purge_deletes_saved_mail(app, make_event, sign_up):
    long_ago = utcnow() - timedelta(days=400)
    old = make_event()
    sign_up(old, email="old@example.org")
    recent = sign_up(make_event(), email="recent@example.org")
    outbox.deliver_all()  # a confirmation goes before its event, never after it ended
    assert len(saved_mail(app)) == 2
    old.starts_at, old.ends_at = long_ago, long_ago + timedelta(hours=3)  # the years went by
    old.registration_opens_at = long_ago - timedelta(days=30)
    db.session.commit()

    assert privacy.purge() == 1

    (body,) = saved_mail(app).values()
    assert recent.email.encode() in body and b"old@example.org" not in body


def network_profile(name):
    return members.Profile(
        name=name,
        organisation="Comune di Bergamo",
        country="IT",
        target_group=TargetGroup.LOCAL_REGIONAL_AUTHORITY,
        language="it",
    )


@pytest.mark.parametrize("how", ["leaves", "is erased", "never confirms"])
def test_a_member_gone_from_the_network_takes_the_saved_copies_of_their_mail(app, how):
    """The network's e-mails to a member hold their name and address: they go with them."""
    anna = members.join("anna@example.org", network_profile("Anna Rossi"))
    members.join("bo@example.dk", network_profile("Bo Holm"))
    assert outbox.deliver_all().sent == 2
    assert any(b"anna@example.org" in body for body in saved_mail(app).values())

    if how == "leaves":
        members.leave(anna)
    elif how == "is erased":
        with write_transaction():
            members.forget("anna@example.org")
    else:
        with write_transaction():
            assert members.drop_unconfirmed(utcnow() + timedelta(days=400)) == 2

    files = saved_mail(app)
    assert not any(b"anna@example.org" in body or b"Anna" in body for body in files.values())
    assert len(files) == (0 if how == "never confirms" else 1)


def test_the_outbox_shows_an_erased_persons_message_as_erased(
    client, auth, make_user, make_event, sign_up
):
    event = make_event()
    person = sign_up(event, first_name="Erika", email="erika@example.se")
    organiser = make_user("organiser")
    messages.send_to_registrants(
        event,
        [RegistrationStatus.CONFIRMED],
        "Bus times",
        "The bus leaves at nine.",
        actor=organiser,
    )
    outbox.deliver_all()
    privacy.erase(person)
    auth.login("organiser@example.org")

    ids = db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
    assert len(ids) == 2  # the confirmation and the organiser's message, both sent
    for message_id in ids:
        page = client.get(f"/admin/outbox/{message_id}")
        assert page.status_code == 200
        assert "Message to an erased person" in page.text
        assert "data is erased." in page.text
        assert "Erika" not in page.text and "erika@example.se" not in page.text
        assert client.get(f"/admin/outbox/{message_id}.eml").status_code == 410
    listing = client.get("/admin/outbox")
    assert listing.status_code == 200 and "(data erased)" in listing.text


def test_saved_mail_and_the_instance_folder_are_private(app, make_event, sign_up):
    sign_up(make_event())
    outbox.deliver_all()
    folder = Path(app.instance_path) / "mail"
    assert mode(folder) == 0o700
    (saved,) = folder.glob("*.eml")
    assert mode(saved) == 0o600

    fresh = create_app(base_config(app.config["SQLALCHEMY_DATABASE_URI"]))
    assert mode(fresh.instance_path) == 0o700


def test_only_the_check_in_page_may_use_the_camera(client, auth, make_user, make_event):
    event = make_event()
    assert "camera=()" in client.get("/").headers["Permissions-Policy"]
    make_user("organiser")
    auth.login("organiser@example.org")
    door = client.get(f"/checkin/{event.slug}")
    assert door.status_code == 200
    assert "camera=(self)" in door.headers["Permissions-Policy"]
    for path in ("/", "/admin/", f"/admin/events/{event.slug}", f"/checkin/{event.slug}/counter"):
        assert "camera=()" in client.get(path).headers["Permissions-Policy"], path


def test_staff_pages_and_personal_data_downloads_are_never_stored(
    client, auth, make_user, make_event, sign_up
):
    event = make_event()
    reference = sign_up(event).registrations[0].reference
    outbox.deliver_all()
    message_id = db.session.scalar(select(OutboxMessage.id))
    make_user("organiser")
    auth.login("organiser@example.org")
    for path in (
        "/admin/",
        f"/admin/events/{event.slug}",
        f"/admin/registrations/{reference}",
        f"/admin/registrations/{reference}/data.json",
        "/admin/outbox",
        f"/admin/outbox/{message_id}",
        f"/admin/outbox/{message_id}.eml",
        f"/checkin/{event.slug}",
        f"/checkin/{event.slug}/search?q=rossi",
        "/",  # any page a logged-in staff member opens
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    assert "no-store" not in client.get("/static/css/site.css").headers.get("Cache-Control", "")


def test_erasing_twice_records_it_once_and_keeps_the_person_one_in_the_figures(make_event, sign_up):
    """A second click (or a second organiser) anonymised again: a second "erased" entry per
    registration, and a new person key, so the figures counted the person twice."""
    event = make_event()
    registrant = sign_up(event)
    end_event(event)
    privacy.erase(registrant)
    key = registrant.person_key
    privacy.erase(registrant)
    db.session.refresh(registrant)
    assert registrant.person_key == key
    erased = select(func.count()).where(AuditEntry.action == "erased")
    assert db.session.scalar(erased) == 1
