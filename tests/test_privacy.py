"""Personal data: download, erasure, retention purge, backups; security headers."""

import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import (
    Event,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    utcnow,
)
from eventreg.services import registrations
from eventreg.services.backup import BackupError, backup_database
from eventreg.services.manage_links import manage_token
from tests.support.factories import details


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


def test_purge_after_the_retention_period_keeps_the_counts(app, runner, make_event, sign_up):
    old = make_event(
        starts_at=utcnow() - timedelta(days=400),
        ends_at=utcnow() - timedelta(days=399),
        registration_opens_at=utcnow() - timedelta(days=500),
        registration_closes_at=utcnow() + timedelta(days=1),
    )
    recent = make_event()
    gone = sign_up(old, country="BG", target_group="public_body")
    both = sign_up(old)
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


def test_without_trusted_proxies_forwarded_headers_are_ignored(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.sqlite_only
def test_backup_while_people_sign_up_is_consistent(app, make_event, tmp_path):
    """SQLite's online backup; PostgreSQL deployments use pg_dump (README)."""
    event_id = make_event(capacity=None).id
    stop = threading.Event()

    def keep_signing_up():
        n = 0
        with app.app_context():  # its own session: objects never cross threads
            event = db.session.get(Event, event_id)
            while not stop.is_set() and n < 500:
                registrations.sign_up(details(email=f"b{n}@example.org"), [event], "test")
                n += 1

    writer = threading.Thread(target=keep_signing_up)
    writer.start()
    try:
        copies = [backup_database(tmp_path / f"copy{i}.sqlite3") for i in range(3)]
    finally:
        stop.set()
        writer.join()
    for copy in copies:
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            people = connection.execute("SELECT count(*) FROM registrant").fetchone()[0]
            seats = connection.execute("SELECT count(*) FROM registration").fetchone()[0]
            mails = connection.execute("SELECT count(*) FROM outbox_message").fetchone()[0]
            assert people == seats == mails  # no sign-up is half in a copy


@pytest.mark.postgresql_only
def test_backup_refuses_postgresql_with_a_pointer(app):
    with pytest.raises(BackupError, match="pg_dump"):
        backup_database()
