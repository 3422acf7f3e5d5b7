"""Organisers and staff: their own passwords, the set-password command, where check-in staff
land, and the account form's event checkboxes."""

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from eventreg.admin import history
from eventreg.extensions import db
from eventreg.models import (
    AuditEntry,
    Event,
    MessageKind,
    OutboxMessage,
    Registrant,
    Registration,
    User,
)
from eventreg.services import accounts, checkin, events, notifications, registrations
from eventreg.services.exports import HEADER
from eventreg.services.manage_links import manage_token
from tests.support.factories import PASSWORD, details, person

NEW_PASSWORD = "a much longer new passphrase"


def stored_user(email: str) -> User:
    db.session.expire_all()
    return accounts.find_user(email)


def test_staff_change_their_own_password(client, auth, make_user):
    make_user("checkin")
    auth.login("checkin@example.org")
    assert "My password" in client.get("/checkin/").text
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert accounts.authenticate("checkin@example.org", NEW_PASSWORD) is not None
    assert accounts.authenticate("checkin@example.org", PASSWORD) is None


def test_a_wrong_current_password_or_a_mistyped_new_one_changes_nothing(client, auth, make_user):
    make_user("organiser")
    auth.login("organiser@example.org")
    before = stored_user("organiser@example.org").password_hash
    for data, message in [
        (
            {"current": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            "This is not your current password.",
        ),
        (
            {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"},
            "The two passwords differ.",
        ),
        ({"current": PASSWORD, "password": "short", "confirm": "short"}, "at least 10"),
    ]:
        response = client.post("/account/password", data=data)
        assert response.status_code == 422 and message in response.text
    assert stored_user("organiser@example.org").password_hash == before


def test_the_password_page_needs_a_login(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_cli_sets_a_password_given_as_an_option(runner, make_user):
    make_user("organiser")
    result = runner.invoke(
        args=["users", "set-password", "organiser@example.org", "--password", NEW_PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert accounts.authenticate("organiser@example.org", NEW_PASSWORD) is not None


def test_cli_prompts_for_the_password_twice_without_echoing_it(runner, make_user):
    make_user("organiser")
    result = runner.invoke(
        args=["users", "set-password", "organiser@example.org"],
        input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "New password" in result.output and NEW_PASSWORD not in result.output
    assert accounts.authenticate("organiser@example.org", NEW_PASSWORD) is not None


def test_cli_refuses_a_short_password_and_an_unknown_account(runner, make_user):
    make_user("organiser")
    before = stored_user("organiser@example.org").password_hash
    result = runner.invoke(
        args=["users", "set-password", "organiser@example.org", "--password", "short"]
    )
    assert result.exit_code != 0 and "at least 10" in result.output
    assert stored_user("organiser@example.org").password_hash == before
    result = runner.invoke(args=["users", "set-password", "ghost@example.org", "--password", "x"])
    assert result.exit_code != 0 and "no account" in result.output


def test_checkin_staff_without_an_event_land_on_a_page_that_says_so(client, auth, make_user):
    make_user("checkin")
    response = auth.login("checkin@example.org")
    assert response.headers["Location"] == "/checkin/"
    page = client.get("/checkin/")
    assert page.status_code == 200
    assert "No event is assigned to you yet" in page.text


def test_checkin_staff_with_two_events_choose_between_them(client, auth, make_user, make_event):
    staff = make_user("checkin")
    first, second = make_event(title="Mission to Odense"), make_event(title="Mission to Cádiz")
    other = make_event(title="Webinar elsewhere")
    accounts.assign_checkin_events(staff, [first, second])
    response = auth.login("checkin@example.org")
    page = client.get(response.headers["Location"]).text
    assert f'href="/checkin/{first.slug}"' in page and f'href="/checkin/{second.slug}"' in page
    assert other.slug not in page


def test_assigning_events_is_a_list_of_checkboxes_with_full_titles(
    client, auth, make_user, make_event
):
    make_user("admin")
    staff = make_user("checkin")
    long_title = "Study mission to Östersund: " + "social procurement in rural areas " * 3
    event = make_event(title=long_title.strip())
    other = make_event(title="Webinar: buying social services")
    auth.login("admin@example.org")
    page = client.get(f"/admin/users/{staff.id}").text
    assert (
        "<select multiple" not in page and "multiple" not in page and 'required="None"' not in page
    )
    boxes = re.findall(r'<input[^>]*name="events"[^>]*>', page)
    assert len(boxes) == 2 and all('type="checkbox"' in box for box in boxes)
    assert long_title.strip() in page
    response = client.post(f"/admin/users/{staff.id}", data={"events": [event.slug]})
    assert response.status_code == 302
    db.session.expire_all()
    assert [e.slug for e in db.session.get(User, staff.id).checkin_events] == [event.slug]
    page = client.get(f"/admin/users/{staff.id}").text
    (checked,) = re.findall(r"<input[^>]*checked[^>]*>", page)
    assert event.slug in checked and other.slug not in checked
    # Unticking every box (the browser then sends no "events" at all) unassigns them all.
    assert client.post(f"/admin/users/{staff.id}", data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, staff.id).checkin_events == []


def test_a_stale_staff_page_changes_only_what_its_admin_ticked(client, auth, make_user, make_event):
    """Admin A opened Carla's page when she worked at Bergamo; admin B then added Odense. A
    ticks Gabrovo and clears Bergamo: Carla keeps Odense, which A never saw."""
    bergamo, odense, _ = (make_event(slug=slug) for slug in ("bergamo", "odense", "gabrovo"))
    make_user("admin")
    carla = make_user("checkin", "carla@example.org")
    accounts.assign_checkin_events(carla, [bergamo])
    auth.login("admin@example.org")
    page = client.get(f"/admin/users/{carla.id}").text
    shown = re.search(r'name="shown" type="hidden" value="([^"]*)"', page).group(1)
    accounts.assign_checkin_events(db.session.get(User, carla.id), [bergamo, odense])  # B
    data = {"events": ["gabrovo"], "shown": shown}
    assert client.post(f"/admin/users/{carla.id}", data=data).status_code == 302
    db.session.expire_all()
    assert sorted(e.slug for e in db.session.get(User, carla.id).checkin_events) == [
        "gabrovo",
        "odense",
    ]


def test_no_form_renders_required_none(client, auth, make_user, make_event):
    make_user("admin")
    auth.login("admin@example.org")
    event = make_event()
    for url in ("/admin/users", "/admin/events/new", f"/admin/events/{event.slug}/edit"):
        assert 'required="None"' not in client.get(url).text, url


@pytest.fixture
def organiser(client, auth, make_user):
    user = make_user("organiser")
    auth.login(user.email)
    return user


def test_a_seat_out_of_waiting_list_order_needs_confirmation(
    client, organiser, make_event, sign_up
):
    event = make_event(capacity=1)
    sign_up(event)
    first = sign_up(event).registrations[0]
    second = sign_up(event).registrations[0]
    page = client.get(f"/admin/registrations/{second.reference}").text
    assert "1 person has waited longer." in page and 'name="ahead_of_queue"' in page
    assert 'name="ahead_of_queue"' not in client.get(f"/admin/registrations/{first.reference}").text

    response = client.post(
        f"/admin/registrations/{second.reference}/promote", follow_redirects=True
    )
    assert "Tick the box to give this seat out of turn." in response.text
    db.session.expire_all()
    assert db.session.get(Registration, second.id).is_waitlisted
    assert db.session.get(Event, event.id).capacity == 1
    assert [kind for kind in outbox_kinds(second)] == [MessageKind.WAITLISTED]

    response = client.post(
        f"/admin/registrations/{second.reference}/promote", data={"ahead_of_queue": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, second.id).is_confirmed
    assert db.session.get(Registration, first.id).is_waitlisted


def test_the_first_in_the_queue_gets_a_seat_without_confirmation(
    client, organiser, make_event, sign_up
):
    event = make_event(capacity=1)
    sign_up(event)
    first = sign_up(event).registrations[0]
    assert client.post(f"/admin/registrations/{first.reference}/promote").status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, first.id).is_confirmed


def outbox_kinds(registration) -> list[MessageKind]:
    return db.session.scalars(
        select(OutboxMessage.kind)
        .where(OutboxMessage.registration_id == registration.id)
        .order_by(OutboxMessage.id)
    ).all()


def test_the_history_lists_the_emails_and_the_event_changes_that_touched_it(
    client, organiser, make_event, sign_up
):
    event = make_event()
    earlier = make_event(title="Another event")
    client.post(f"/admin/events/{event.slug}/edit", data={})  # nothing: the form is invalid
    registration = sign_up(event, email="ana@example.org").registrations[0]
    sign_up(earlier)
    events.update_event(event, {"venue": "Sala Consiliare"}, actor=organiser)
    events.update_event(earlier, {"venue": "Elsewhere"}, actor=organiser)
    history = client.get(f"/admin/registrations/{registration.reference}").text
    section = " ".join(history[history.index("<h2>History</h2>") :].split())
    assert "Signed up" in section
    assert "<strong>Event changed</strong> (what changed: Venue (in person))" in section
    assert section.count("<strong>Event changed</strong>") == 1  # not the other event's change
    assert "E-mail: Confirmation of a seat" in section and "E-mail: Event changed" in section
    assert "ana@example.org" in section
    assert section.index("Confirmation of a seat") < section.index("<strong>Event changed")


def test_the_history_names_actions_and_details_in_the_organisers_language(
    client, organiser, make_event, sign_up
):
    event = make_event(title="Missione a Bergamo")
    registrant = sign_up(event, email="ana@example.org", last_name="Rossi")
    registration = registrant.registrations[0]
    corrected = details(email="ana@example.org", last_name="Rossi", organisation="Coop Sole")
    registrations.update_details(registrant, corrected, actor=organiser)
    checkin.check_in(registration, staff=organiser, any_day=True)
    italian = {"Accept-Language": "it"}
    page = client.get(f"/admin/registrations/{registration.reference}", headers=italian).text
    section = " ".join(page[page.index("<h2>Cronologia</h2>") :].split())
    assert "<strong>Iscritto</strong> (stato: Confermata)" in section
    assert "<strong>Dati corretti</strong> (cosa è cambiato: Organizzazione)" in section
    assert "come: trovato per nome; quando: " in section and "dispositivo" not in section
    for code in ("signed up", "details updated", "checked in", "how:", "manual", "organisation"):
        assert code not in section


def test_every_action_in_a_history_has_a_label():
    """Each audit action the code records about a registration or its event is named."""
    source = "\n".join(path.read_text() for path in Path("eventreg").rglob("*.py"))
    recorded = set(re.findall(r'(?:record|insert_entry)\(\s*"([a-z_]+)"', source))
    recorded |= set(re.findall(r'_announce\([^()]*(?:\([^()]*\))?[^()]*"([a-z_]+)"', source))
    assert {"signed_up", "promoted", "moved_here", "checked_in"} <= recorded
    shown = recorded - {"event_created", "event_published", "message_sent"}  # in no history
    assert shown <= history.ACTION_LABELS.keys()


def test_the_outbox_shows_subjects_and_readable_kinds_and_searches_by_recipient(
    client, organiser, make_event, sign_up
):
    event = make_event(title="Study mission to Cádiz")
    sign_up(event, email="ana.silva@example.pt", language="pt")
    sign_up(event, email="bo@example.dk")
    page = client.get("/admin/outbox").text
    assert "Confirmation of a seat" in page and ">confirmation<" not in page
    assert "O seu lugar em Study mission to Cádiz" in page
    assert "Your place at Study mission to Cádiz" in page
    found = client.get("/admin/outbox?to=SILVA@example").text
    assert "ana.silva@example.pt" in found and "bo@example.dk" not in found
    nothing = client.get("/admin/outbox?to=%25").text  # a wildcard is a character here
    assert "ana.silva@example.pt" not in nothing and "bo@example.dk" not in nothing
    assert "bo@example.dk" in client.get("/admin/outbox?status=pending&to=bo@").text


def test_exports_offer_readable_labels_in_the_organisers_language_besides_the_codes(
    client, organiser, make_event, sign_up
):
    event = make_event(capacity=1)
    sign_up(event, first_name="Ana", country="PT", target_group="business", language="pt")
    sign_up(event, first_name="Bo", country="DK")  # waiting
    client.post("/language", data={"language": "it"})
    assert "labels=yes" in client.get(f"/admin/events/{event.slug}/statistics").text
    plain = client.get(f"/admin/events/{event.slug}/attendees.csv").data.decode("utf-8-sig")
    assert "Portogallo" not in plain  # codes only unless asked
    text = client.get(f"/admin/events/{event.slug}/attendees.csv?labels=yes").data
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    header, *lines = rows
    assert header[: len(HEADER)] == list(HEADER)
    assert header[len(HEADER) :] == [
        "Stato",
        "Paese",
        "Gruppo destinatario",
        header[len(HEADER) + 3],
        "Lingua",
        "Presenza",
        "Motivo dell'annullamento",
    ]
    by_name = {line[HEADER.index("first_name")]: line for line in lines}
    ana, bo = by_name["Ana"], by_name["Bo"]
    assert ana[HEADER.index("country")] == "PT" and ana[len(HEADER) + 1] == "Portogallo"
    assert ana[HEADER.index("status")] == "confirmed" and ana[len(HEADER)] == "Confermata"
    assert ana[len(HEADER) + 2] == "Impresa" and ana[len(HEADER) + 4] == "Português"
    assert bo[len(HEADER)] == "Lista d'attesa" and bo[len(HEADER) + 1] == "Danimarca"
    workbook = load_workbook(
        io.BytesIO(client.get(f"/admin/events/{event.slug}/attendees.xlsx?labels=yes").data)
    )
    first, *_ = workbook["Attendees"].iter_rows(values_only=True)
    assert list(first[len(HEADER) :]) == header[len(HEADER) :]


def test_resaving_unchanged_details_with_browser_line_endings_changes_nothing(
    client, make_event, sign_up
):
    needs = "Wheelchair access.\nVegetarian meals."
    registrant = sign_up(make_event(), email="keep@example.org", needs=needs)
    data = person(
        first_name=registrant.first_name,
        last_name=registrant.last_name,
        email="keep@example.org",
        needs="Wheelchair access.\r\nVegetarian meals.\r\n",  # what a browser sends back
    )
    response = client.post(f"/manage/{manage_token(registrant)}/details", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registrant, registrant.id).needs == needs
    assert not db.session.scalar(select(AuditEntry).where(AuditEntry.action == "details_updated"))


def reset_link_in(message_text: str) -> str:
    return re.search(r"http://eventreg\.test(/account/reset/[\w.-]+)", message_text)[1]


def test_an_admin_sends_a_one_time_reset_link_through_the_outbox(client, auth, make_user):
    make_user("admin")
    staff = make_user("checkin", "door@example.org")
    auth.login("admin@example.org")
    response = client.post(f"/admin/users/{staff.id}/reset-link")
    assert response.status_code == 302
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.PASSWORD_RESET)
    )
    assert message.recipient == "door@example.org" and message.registration is None
    # Organisers reading the outbox never see the link itself.
    shown = client.get(f"/admin/outbox/{message.id}").text
    assert "/account/reset/" not in shown and "door@example.org" in shown
    assert "/account/reset/" not in client.get(f"/admin/outbox/{message.id}.eml").text
    assert "Set a new password for your account" in client.get("/admin/outbox").text
    auth.logout()

    email = notifications.build_message(message)
    assert email.subject == "Set a new password for your account"
    path = reset_link_in(email.body)
    assert path in email.html
    page = client.get(path)
    assert page.status_code == 200 and 'name="password"' in page.text
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert accounts.authenticate("door@example.org", NEW_PASSWORD) is not None

    # Once used, the link is spent.
    again = client.post(path, data={"password": "yet another passphrase", "confirm": "x"})
    assert again.status_code == 410 and "expired or has already been used" in again.text
    assert accounts.authenticate("door@example.org", NEW_PASSWORD) is not None


def test_a_reset_link_expires_and_cannot_be_forged(app, client, make_user):
    staff = make_user("organiser")
    accounts.send_password_reset(staff)
    message = db.session.scalar(select(OutboxMessage))
    path = reset_link_in(notifications.build_message(message).body)
    assert client.get(path[:-3] + "abc").status_code == 410
    app.config["PASSWORD_RESET_HOURS"] = -1  # every link is older than that
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 410
    assert accounts.authenticate("organiser@example.org", PASSWORD) is not None


def test_a_reset_link_sent_before_a_deactivation_dies_with_it(client, make_user):
    """Reactivated, an account got back the reset link e-mailed the day before it was
    deactivated: "nothing of before comes back" held for its sessions and tokens only."""
    staff = make_user("organiser")
    accounts.send_password_reset(staff)
    message = db.session.scalar(select(OutboxMessage))
    path = reset_link_in(notifications.build_message(message).body)
    accounts.deactivate(staff)
    accounts.reactivate(staff)
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 410
    assert accounts.authenticate("organiser@example.org", PASSWORD) is not None


def test_reset_links_are_sent_only_by_admins(client, auth, make_user):
    make_user("organiser")
    staff = make_user("checkin")
    auth.login("organiser@example.org")
    assert client.post(f"/admin/users/{staff.id}/reset-link").status_code == 403
    assert db.session.scalar(select(OutboxMessage)) is None


def test_changing_the_password_ends_the_other_sessions_but_not_this_one(
    app, client, auth, make_user
):
    make_user("organiser")
    elsewhere = app.test_client()
    elsewhere.post("/login", data={"email": "organiser@example.org", "password": PASSWORD})
    assert elsewhere.get("/admin/").status_code == 200
    auth.login("organiser@example.org")
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302  # sent to the login page
