"""The organiser area: roles on every URL, events, attendance lists, registrations, messages."""

import contextlib
import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.formatting import MESSAGE_KIND_LABELS
from eventreg.models import (
    AgendaDay,
    AuditEntry,
    Event,
    EventStatus,
    MessageKind,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    Role,
    User,
    utcnow,
)
from eventreg.services import accounts, events, notifications, outbox, privacy
from eventreg.services.agenda import agenda_text
from tests.support.admin_forms import edit_form, event_form
from tests.support.after_event import end_event
from tests.support.factories import PASSWORD, person
from tests.support.locks import as_another_request

# The least role each part of the site needs; every protected rule must fall under one.
PROTECTED = [("/admin/users", Role.ADMIN), ("/admin", Role.ORGANISER), ("/checkin", Role.CHECKIN)]
RANK = {None: 0, Role.CHECKIN: 1, Role.ORGANISER: 2, Role.ADMIN: 3}


def required_role(rule: str):
    return next((role for prefix, role in PROTECTED if rule.startswith(prefix)), None)


@pytest.fixture
def world(make_event, sign_up, make_user):
    """An event with a confirmed and a waiting registration, staff of every role, one message."""
    event = make_event(capacity=1, title="Bergamo")
    other = make_event(title="Odense")
    holder = sign_up(event, email="holder@example.org")
    waiting = sign_up(event, email="waiting@example.org")
    users = {role: make_user(role) for role in Role}
    return {
        "slug": event.slug,
        "reference": holder.registrations[0].reference,
        "waiting_reference": waiting.registrations[0].reference,
        "other": other.slug,
        "user_id": users[Role.CHECKIN].id,
        "message_id": db.session.scalar(select(func.min(OutboxMessage.id))),
        "tokens": {role: accounts.issue_api_token(user) for role, user in users.items()},
    }


def protected_rules(app):
    for rule in app.url_map.iter_rules():
        if required_role(rule.rule) is not None:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def build(rule, world):
    values = {
        "slug": world["slug"],
        "reference": world["reference"],
        "user_id": world["user_id"],
        "message_id": world["message_id"],
        # After the event: unknown ids are enough, the role is checked before anything loads.
        "material_id": 1,
        "question_id": 1,
        "code": "NO-SUCH-CODE",
    }
    return rule.build({name: values[name] for name in rule.arguments})[1]


@pytest.mark.parametrize("role", [None, Role.CHECKIN, Role.ORGANISER, Role.ADMIN])
def test_every_protected_url_checks_the_role(app, client, world, role):
    """Walk the whole matrix: each role over every organiser and check-in URL, GET and POST."""
    checked = 0
    for rule, method in protected_rules(app):
        needed = required_role(rule.rule)
        url = build(rule, world)
        headers = {"Authorization": f"Bearer {world['tokens'][role]}"} if role else {}
        response = client.open(url, method=method, headers=headers)
        allowed = RANK[role] >= RANK[needed]
        if needed is Role.CHECKIN and role is Role.CHECKIN and "slug" in rule.arguments:
            allowed = False  # not assigned to this event
        if allowed:
            assert response.status_code < 500, (method, url, role, response.status_code)
            assert response.status_code not in (401, 403), (method, url, role)
        elif role is None:
            assert response.status_code in (302, 401), (method, url)
        else:
            assert response.status_code == 403, (method, url, role, response.status_code)
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("role", ["checkin", "organiser"])
def test_session_logins_get_the_same_answers(client, auth, make_user, make_event, role):
    make_user(role)
    auth.login(f"{role}@example.org")
    event = make_event()
    expected = 403 if role == "checkin" else 200
    assert client.get(f"/admin/events/{event.slug}").status_code == expected
    assert client.get("/admin/users").status_code == 403


@pytest.fixture
def organiser(client, auth, make_user):
    user = make_user("organiser")
    auth.login(user.email)
    return user


def test_create_a_draft_then_publish(client, organiser):
    response = client.post("/admin/events/new", data=event_form())
    assert response.status_code == 302
    event = db.session.scalar(select(Event).where(Event.slug == "webinar-extra"))
    assert event.status is EventStatus.DRAFT
    assert event.local_starts_at.hour == 10 and event.timezone == "Europe/Sofia"
    assert client.get("/events/webinar-extra").status_code == 404
    assert "Extra webinar" not in client.get("/").text
    client.post("/admin/events/webinar-extra/publish")
    assert client.get("/events/webinar-extra").status_code == 200
    assert "Extra webinar" in client.get("/register").text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ends_at", "2031-05-05T09:00", "The event must end after it starts."),
        ("slug", "Not A Slug", "Use lower-case letters"),
        ("mode", "in_person", "An in-person event needs a city."),
        ("online_url", "not a url", "Invalid URL"),
        ("capacity", "-1", "at least 0"),
    ],
)
def test_invalid_event_is_explained_and_not_saved(client, organiser, field, value, message):
    response = client.post("/admin/events/new", data=event_form(**{field: value}))
    assert response.status_code == 422
    assert message in response.text
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_editing_the_time_sends_updates_and_is_audited(client, organiser, make_event, sign_up):
    event = make_event()
    sign_up(event)
    form = event_form(
        slug=event.slug,
        mode="in_person",
        city="Odense",
        venue="Rådhus",
        timezone="Europe/Copenhagen",
        capacity="10",
        publish="y",
    )
    assert client.post(f"/admin/events/{event.slug}/edit", data=form).status_code == 302
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == [MessageKind.CONFIRMATION, MessageKind.EVENT_CHANGED]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event_updated"))
    assert entry.actor_id == organiser.id and "starts_at" in entry.details["fields"]


def test_a_published_event_keeps_its_slug_and_a_draft_may_change_it(
    client, organiser, make_event, sign_up
):
    """Renaming a published event broke every link sent out, and the next start recreated the
    programme's event under its old slug as a second live event."""
    event = make_event()
    sign_up(event)
    page = client.get(f"/admin/events/{event.slug}/edit").text
    assert re.search(r'<input[^>]*id="slug"[^>]*readonly', page)
    form = event_form(slug="renamed", publish="y")
    response = client.post(f"/admin/events/{event.slug}/edit", data=form)
    assert response.status_code == 422 and "A published event keeps its address." in response.text
    db.session.expire_all()
    assert db.session.scalar(select(Event.slug)) == event.slug
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # no change
    with pytest.raises(events.SlugFixed):
        events.update_event(event, {"slug": "renamed"}, actor=organiser)

    draft = make_event(status=EventStatus.DRAFT)
    assert "readonly" not in client.get(f"/admin/events/{draft.slug}/edit").text
    client.post(f"/admin/events/{draft.slug}/edit", data=event_form(slug="draft-renamed"))
    db.session.refresh(draft)
    assert draft.slug == "draft-renamed"


def test_the_edit_form_shows_local_times(client, organiser, make_event):
    event = make_event()
    page = client.get(f"/admin/events/{event.slug}/edit").text
    local = event.local_starts_at.strftime("%Y-%m-%dT%H:%M")
    assert f'value="{local}"' in page


@pytest.mark.parametrize("zone", ["Atlantic/Canary", "America/New_York"])
def test_saving_the_form_keeps_a_zone_the_programme_file_gave(client, organiser, make_event, zone):
    """The Canary Islands are in Europe, not in Europe/*; a programme file may give any zone.
    The select offered neither, so a browser sent its first option: the event moved hours."""
    start = (utcnow() + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    event = make_event(
        slug="canarias", timezone=zone, starts_at=start, ends_at=start + timedelta(hours=8)
    )
    starts_at = event.starts_at
    page = client.get(f"/admin/events/{event.slug}/edit").text
    select_ = re.search(r'<select[^>]*name="timezone".*?</select>', page, re.S).group(0)
    assert re.search(rf'<option selected value="{zone}"|<option value="{zone}" selected', select_)
    data = edit_form(event, title="Study mission to Las Palmas")
    assert client.post(f"/admin/events/{event.slug}/edit", data=data).status_code == 302
    db.session.refresh(event)
    assert (event.timezone, event.starts_at, event.title) == (
        zone,
        starts_at,
        "Study mission to Las Palmas",
    )


def test_raising_capacity_promotes_the_waiting_list(client, organiser, make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    waiting = sign_up(event)
    page = client.get(f"/admin/events/{event.slug}/edit").text
    data = {
        name: value
        for name, value in re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', page)
        if name != "csrf_token"
    }
    data |= {"capacity": "2", "kind": "mission", "mode": "in_person", "timezone": "Europe/Rome"}
    data["description"] = "x"
    assert client.post(f"/admin/events/{event.slug}/edit", data=data).status_code == 302
    db.session.refresh(waiting.registrations[0])
    assert waiting.registrations[0].is_confirmed


def test_calling_an_event_off_cancels_and_tells_everyone(client, organiser, make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    sign_up(event)
    client.post(f"/admin/events/{event.slug}/cancel")  # the box is not ticked: nothing happens
    assert (
        db.session.scalar(select(Event.status).where(Event.id == event.id)) is EventStatus.PUBLISHED
    )
    client.post(f"/admin/events/{event.slug}/cancel", data={"confirm": "y"})
    statuses = db.session.scalars(select(Registration.status)).all()
    assert statuses == [RegistrationStatus.CANCELLED] * 2
    sent = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.EVENT_CANCELLED)
    ).all()
    assert len(sent) == 2
    assert "sequence" in sent[0].params and "sequence" not in sent[1].params
    assert "Called off" in client.get(f"/events/{event.slug}").text


def test_an_event_that_has_ended_cannot_be_called_off(client, organiser, make_event, sign_up):
    """Its attendees would be told it was cancelled, with a calendar cancellation."""
    event = make_event()
    sign_up(event)
    end_event(event)
    page = client.get(f"/admin/events/{event.slug}").text
    assert "Call the event off" not in page and "Ended" in page
    response = client.post(f"/admin/events/{event.slug}/cancel", data={"confirm": "y"})
    assert "can no longer be called off" in client.get(response.headers["Location"]).text
    assert db.session.scalar(select(Event.status).where(Event.id == event.id)) is (
        EventStatus.PUBLISHED
    )
    assert db.session.scalar(select(Registration.status)) is RegistrationStatus.CONFIRMED
    assert not db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.EVENT_CANCELLED)
    ).all()


def test_attendance_list_search_filter_sort(client, organiser, make_event, sign_up):
    event = make_event(capacity=2)
    sign_up(event, first_name="Ana", last_name="Zeta", country="PT", organisation="Coop A")
    sign_up(event, first_name="Boris", last_name="Alfa", country="BG", target_group="public_body")
    sign_up(event, first_name="Carla", last_name="Mid", country="PT")
    url = f"/admin/events/{event.slug}"
    page = client.get(url).text
    assert "3 registrations" in page
    assert "Boris" in client.get(url, query_string={"q": "alfa"}).text
    assert "Ana" not in client.get(url, query_string={"q": "alfa"}).text
    only_pt = client.get(url, query_string={"country": "PT"}).text
    assert "Ana" in only_pt and "Boris" not in only_pt
    waiting = client.get(url, query_string={"status": "waitlisted"}).text
    assert "Carla" in waiting and "Ana" not in waiting
    public = client.get(url, query_string={"target_group": "public_body"}).text
    assert "Boris" in public and "Carla" not in public
    by_name = client.get(url, query_string={"sort": "name"}).text
    assert by_name.index("Alfa") < by_name.index("Mid") < by_name.index("Zeta")
    desc = client.get(url, query_string={"sort": "name", "order": "desc"}).text
    assert desc.index("Zeta") < desc.index("Alfa")
    assert "Nobody matches" in client.get(url, query_string={"attended": "yes"}).text


def test_the_attendance_list_finds_names_typed_without_their_accents(
    client, organiser, make_event, sign_up
):
    event = make_event()
    sign_up(event, first_name="Søren", last_name="Jørgensen")
    sign_up(event, first_name="Ana", last_name="Petrova")
    url = f"/admin/events/{event.slug}"
    for query in ("jorgensen", "SØREN", "soren j"):
        page = client.get(url, query_string={"q": query}).text
        assert "Jørgensen" in page and "Petrova" not in page, query


def test_names_with_html_are_shown_as_text(client, organiser, make_event, sign_up):
    event = make_event()
    sign_up(
        event, first_name="<script>alert(1)</script>", organisation='"><img src=x onerror=alert(1)>'
    )
    page = client.get(f"/admin/events/{event.slug}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_add_a_person_by_hand_after_registration_closed(client, organiser, make_event):
    event = make_event(
        registration_opens_at=utcnow() - timedelta(days=9),
        registration_closes_at=utcnow() - timedelta(days=1),
    )
    data = person(email="phone@example.org") | {"consent": "y"}
    response = client.post(f"/admin/events/{event.slug}/registrations/new", data=data)
    assert response.status_code == 302
    registration = db.session.scalar(select(Registration))
    assert registration.is_confirmed
    history = client.get(response.headers["Location"]).text
    assert "Signed up" in history and organiser.email in history


def test_promote_move_cancel_with_history(client, organiser, make_event, sign_up):
    event = make_event(capacity=1)
    other = make_event(title="Odense mission", capacity=5)
    sign_up(event)
    waiting = sign_up(event).registrations[0]
    client.post(f"/admin/registrations/{waiting.reference}/promote")
    db.session.refresh(waiting)
    db.session.refresh(event)
    assert waiting.is_confirmed and event.capacity == 2

    response = client.post(
        f"/admin/registrations/{waiting.reference}/move", data={"target": other.slug}
    )
    moved = db.session.scalar(select(Registration).where(Registration.event_id == other.id))
    assert moved.is_confirmed
    assert response.headers["Location"].endswith(moved.reference)
    db.session.refresh(waiting)
    assert waiting.status is RegistrationStatus.CANCELLED

    response = client.post(f"/admin/registrations/{moved.reference}/cancel")  # one slip of a tap
    assert "Tick the box to confirm" in client.get(response.headers["Location"]).text
    db.session.refresh(moved)
    assert moved.is_confirmed
    client.post(f"/admin/registrations/{moved.reference}/cancel", data={"confirm": "y"})
    db.session.refresh(moved)
    assert moved.status is RegistrationStatus.CANCELLED
    history = client.get(f"/admin/registrations/{waiting.reference}").text
    for action in ("Signed up", "Given a seat from the waiting list", "Cancelled", "to: "):
        assert action in history
    assert "moved to" not in history and "status: confirmed" not in history
    assert organiser.email in history


def test_write_to_registrants_by_status(client, organiser, make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    sign_up(event)
    body = "Dear all,\r\n\r\nSeats may free up.\r\nStay tuned.\r\n\r\nThe organisers"
    data = {"statuses": ["waitlisted"], "subject": "Seats may free up", "body": body}
    assert client.post(f"/admin/events/{event.slug}/message", data=data).status_code == 302
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == MessageKind.ORGANISER_MESSAGE)
    ).all()
    assert len(messages) == 1
    assert messages[0].registration.is_waitlisted
    detail = client.get(f"/admin/outbox/{messages[0].id}").text
    assert "Seats may free up" in detail and "Stay tuned." in detail
    html = notifications.build_message(messages[0]).html
    assert "<p>Dear all,</p>" in html and "<p>Seats may free up.<br>Stay tuned.</p>" in html


def test_a_message_sent_twice_by_a_double_click_goes_once(client, organiser, make_event, sign_up):
    event = make_event()
    sign_up(event)
    sign_up(event)
    data = {"statuses": ["confirmed"], "subject": "Bus at 8:00", "body": "Meet at the station."}
    client.post(f"/admin/events/{event.slug}/message", data=data)
    again = client.post(f"/admin/events/{event.slug}/message", data=data, follow_redirects=True)
    assert "it is not sent twice" in again.text
    changed = data | {"body": "Meet at the station, platform 2."}  # a correction does go
    client.post(f"/admin/events/{event.slug}/message", data=changed)
    bodies = db.session.scalars(
        select(OutboxMessage.params).where(OutboxMessage.kind == MessageKind.ORGANISER_MESSAGE)
    ).all()
    assert sorted(params["body"] for params in bodies) == [
        "Meet at the station, platform 2.",
        "Meet at the station, platform 2.",
        "Meet at the station.",
        "Meet at the station.",
    ]


def test_admin_manages_accounts(client, auth, make_user, make_event):
    make_user("admin")
    auth.login("admin@example.org")
    event = make_event()
    response = client.post(
        "/admin/users",
        data={"email": "door@example.org", "role": "checkin", "password": "a long password"},
    )
    assert response.status_code == 302
    staff = db.session.scalar(select(User).where(User.email == "door@example.org"))
    client.post(f"/admin/users/{staff.id}", data={"events": [event.slug]})
    db.session.refresh(staff)
    assert [e.slug for e in staff.checkin_events] == [event.slug]
    assert staff.can_check_in_at(event)
    token = accounts.issue_api_token(staff)
    client.post(f"/admin/users/{staff.id}/revoke-tokens")
    assert accounts.user_for_api_token(token) is None
    token = accounts.issue_api_token(staff)
    client.post(f"/admin/users/{staff.id}/deactivate")
    assert "Reactivate" in client.get(f"/admin/users/{staff.id}").text
    client.post(f"/admin/users/{staff.id}/reactivate")  # a deactivation is not for ever
    db.session.refresh(staff)
    assert staff.is_active and accounts.user_for_api_token(token) is None  # nothing old back
    client.post(f"/admin/users/{staff.id}/deactivate")
    auth.logout()
    assert auth.login("door@example.org", PASSWORD).status_code == 422


def test_an_admin_changes_a_staff_members_role_but_not_their_own(client, auth, make_user):
    admin = make_user("admin")
    door = make_user("checkin", "door@example.org")
    auth.login(admin.email)
    page = client.get(f"/admin/users/{door.id}").text
    assert f'action="/admin/users/{door.id}/role"' in page
    assert (
        client.post(f"/admin/users/{door.id}/role", data={"role": "organiser"}).status_code == 302
    )
    db.session.refresh(door)
    assert door.role is Role.ORGANISER
    assert client.post(f"/admin/users/{door.id}/role", data={"role": "boss"}).status_code == 400
    assert client.post(f"/admin/users/{admin.id}/role", data={"role": "checkin"}).status_code == 400
    assert "/role" not in client.get(f"/admin/users/{admin.id}").text
    auth.logout()
    auth.login("door@example.org")
    assert client.get("/admin/events/new").status_code == 200  # an organiser now


@pytest.mark.parametrize(
    ("language", "email_taken", "too_short"),
    [
        ("en", "An account with this e-mail address already exists.", "at least 10"),
        ("it", "Esiste già un account con questo indirizzo e-mail.", "almeno 10"),
    ],
)
def test_account_form_errors_are_in_the_organisers_language(
    client, auth, make_user, language, email_taken, too_short
):
    make_user("admin")
    auth.login("admin@example.org")
    headers = {"Accept-Language": language}
    taken = {"email": "admin@example.org", "role": "checkin", "password": "a long password"}
    response = client.post("/admin/users", data=taken, headers=headers)
    assert response.status_code == 422 and email_taken in response.text
    short = {"email": "door@example.org", "role": "checkin", "password": "short"}
    response = client.post("/admin/users", data=short, headers=headers)
    assert response.status_code == 422 and too_short in response.text
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_moving_offers_only_events_the_person_can_move_to_and_says_why_not(
    client, organiser, make_event, sign_up
):
    here, held, elsewhere, free = (make_event(title=t) for t in ("Here", "Held", "Other", "Free"))
    person = sign_up(here, held, email="ana@example.org")
    sign_up(elsewhere, email="ana@example.org")  # the same person, signed up on their own
    reference = next(r.reference for r in person.registrations if r.event_id == here.id)
    page = client.get(f"/admin/registrations/{reference}").text
    options = re.findall(r'<option value="([^"]+)"', page)
    assert held.slug not in options and free.slug in options and elsewhere.slug in options

    response = client.post(
        f"/admin/registrations/{reference}/move", data={"target": elsewhere.slug}
    )
    flashed = client.get(response.headers["Location"]).text
    assert "The person is already registered for Other." in flashed
    assert (
        client.post(
            f"/admin/registrations/{reference}/move", data={"target": free.slug}
        ).status_code
        == 302
    )


def test_adding_a_person_says_their_status_in_the_organisers_language(
    client, organiser, make_event
):
    event = make_event(capacity=0)
    form = person() | {"consent": "y"}
    response = client.post(
        f"/admin/events/{event.slug}/registrations/new",
        data=form,
        headers={"Accept-Language": "bg"},
    )
    page = client.get(response.headers["Location"], headers={"Accept-Language": "bg"}).text
    assert "Списък с чакащи" in page and "waitlisted." not in page


def test_every_message_kind_has_a_label():
    assert MESSAGE_KIND_LABELS.keys() == {kind.value for kind in MessageKind}


def test_the_organiser_area_names_roles_kinds_and_statuses_in_the_organisers_language(
    client, auth, make_user, make_event, sign_up
):
    make_user("admin")
    make_user("checkin", "door@example.org")
    auth.login("admin@example.org")
    bulgarian = {"Accept-Language": "bg"}
    users = client.get("/admin/users", headers=bulgarian).text
    assert "Персонал за отбелязване на пристигането" in users and ">checkin<" not in users

    registration = sign_up(make_event(capacity=0)).registrations[0]
    outbox.deliver_all()
    db.session.rollback()
    message = db.session.scalar(select(OutboxMessage))
    page = client.get(f"/admin/outbox/{message.id}", headers=bulgarian).text
    assert "waitlisted" not in page and "sent" not in page.split("<main", 1)[1].split("</dl>")[0]
    history = client.get(f"/admin/registrations/{registration.reference}", headers=bulgarian).text
    assert "status: waitlisted" not in history and "Списък с чакащи" in history


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("starts_at", "2031-03-30T02:30", "2031-03-30 02:30 does not exist in Europe/Rome"),
        ("ends_at", "2031-10-26T02:30", "2031-10-26 02:30 happens twice in Europe/Rome"),
        ("registration_opens_at", "2031-03-30T02:00", "the clocks go forward that night"),
        ("agenda", "2031-03-30 02:30-05:00", "2031-03-30 02:30 does not exist in Europe/Rome"),
    ],
)
def test_a_time_the_clock_change_skips_or_repeats_is_refused(
    client, organiser, field, value, message
):
    """02:30 on the night the clocks go forward was saved as 03:30, silently."""
    form = event_form(
        timezone="Europe/Rome",
        starts_at="2031-03-29T10:00",
        ends_at="2031-10-26T12:00",
        registration_opens_at="2026-01-05T09:00",
        registration_closes_at="2031-03-28T18:00",
    )
    response = client.post("/admin/events/new", data=form | {field: value})
    assert response.status_code == 422
    assert message in response.text
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0
    assert client.post("/admin/events/new", data=form).status_code == 302


@pytest.mark.parametrize("occurrence", [0, 1], ids=["first-0230", "second-0230"])
def test_an_event_saved_in_an_hour_the_clocks_repeat_can_still_be_edited(
    client, organiser, make_event, occurrence
):
    """Before such times were refused, an event could be saved ending at 02:30 on the night
    Rome's clocks go back (a programme file, an older form). Its edit page failed (500) and
    saving anything else would have had to move it; left as it was, it keeps its moment."""
    rome = ZoneInfo("Europe/Rome")
    ends_at = datetime(2031, 10, 26, 2, 30, fold=occurrence, tzinfo=rome).astimezone(UTC)
    day_two_ends = datetime(2031, 10, 26, 2, 15, fold=occurrence, tzinfo=rome).astimezone(UTC)
    starts_at = datetime(2031, 10, 25, 9, 0, tzinfo=rome).astimezone(UTC)
    event = make_event(
        starts_at=starts_at,
        ends_at=ends_at,
        agenda=[
            AgendaDay(starts_at, starts_at + timedelta(hours=8), None),
            AgendaDay(ends_at - timedelta(hours=2), day_two_ends, "Night shift"),
        ],
    )
    page = client.get(f"/admin/events/{event.slug}/edit")
    assert page.status_code == 200
    assert 'value="2031-10-26T02:30"' in page.text and "02:15 Night shift" in page.text

    saved = client.post(
        f"/admin/events/{event.slug}/edit", data=edit_form(event, title="Night mission")
    )
    assert saved.status_code == 302
    db.session.refresh(event)
    assert (event.title, event.ends_at, event.agenda[1].ends_at) == (
        "Night mission",
        ends_at,
        day_two_ends,
    )

    moved = client.post(
        f"/admin/events/{event.slug}/edit", data=edit_form(event, ends_at="2031-10-26T02:45")
    )
    assert moved.status_code == 422
    assert "2031-10-26 02:45 happens twice in Europe/Rome" in moved.text
    db.session.refresh(event)
    assert event.ends_at == ends_at


def test_an_event_whose_days_began_before_it_still_takes_other_edits(client, organiser, make_event):
    """Saved before agenda days had to lie between the event's start and end (its first day
    at 08:30, the event from 09:00): an edit of its title was refused until the agenda was
    fixed. The hours as they are were checked when saved; a change of them is checked now."""
    rome = ZoneInfo("Europe/Rome")
    starts_at = datetime(2031, 3, 24, 9, tzinfo=rome)
    ends_at = datetime(2031, 3, 25, 17, tzinfo=rome)
    event = make_event(
        starts_at=starts_at,
        ends_at=ends_at,
        agenda=[
            AgendaDay(starts_at - timedelta(minutes=30), starts_at + timedelta(hours=8), None),
            AgendaDay(ends_at - timedelta(hours=8), ends_at, None),
        ],
    )
    saved = client.post(f"/admin/events/{event.slug}/edit", data=edit_form(event, title="Renamed"))
    assert saved.status_code == 302
    db.session.refresh(event)
    assert (event.title, event.agenda[0].starts_at) == (
        "Renamed",
        starts_at - timedelta(minutes=30),
    )

    later = edit_form(event, agenda=agenda_text(event).replace("17:00", "16:30"))
    refused = client.post(f"/admin/events/{event.slug}/edit", data=later)
    assert refused.status_code == 422
    assert "must fall between the event" in refused.text


def test_a_message_after_the_event_skips_the_people_who_were_erased(
    client, organiser, make_event, sign_up
):
    """An erased person's registration for an ended event stays, anonymous, in the figures:
    a follow-up message queued an e-mail to an empty address, which failed until given up."""
    event = make_event()
    kept = sign_up(event, email="ana@example.org")
    erased = sign_up(event, email="ben@example.org")
    end_event(event)
    privacy.erase(erased)
    data = {"statuses": ["confirmed"], "subject": "Slides", "body": "The slides are online."}
    response = client.post(f"/admin/events/{event.slug}/message", data=data, follow_redirects=True)
    assert "1 message(s) queued." in response.text
    recipients = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.kind == MessageKind.ORGANISER_MESSAGE)
    ).all()
    assert recipients == [kept.email]


def test_a_reactivation_that_fails_half_way_leaves_the_account_inactive(make_user, monkeypatch):
    """The account was active again, its old tokens with it, when revoking them failed."""
    staff = make_user("checkin", "door@example.org")
    token = accounts.issue_api_token(staff)
    accounts.deactivate(staff)

    def revoking_fails(user):
        raise RuntimeError("database gone")

    monkeypatch.setattr(accounts, "revoke_api_tokens", revoking_fails)
    with pytest.raises(RuntimeError):
        accounts.reactivate(staff)
    db.session.rollback()
    db.session.refresh(staff)
    assert not staff.is_active  # and so its old token opens nothing
    assert accounts.user_for_api_token(token) is None


@pytest.mark.postgresql_only  # SQLite's BEGIN IMMEDIATE runs the two one after the other
def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, make_user, monkeypatch):
    """Each page refused only "yourself": two admins removing each other at the same moment
    left the site with no admin, recoverable only from the command line."""
    ana, ben = make_user("admin", "ana@example.org"), make_user("admin", "ben@example.org")
    both_there = threading.Barrier(2, timeout=3)
    original = accounts.lock

    def lock_when_both_are_there(user):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_there.wait()  # both changing at once, if the locks let them (they should not)
        return original(user)

    monkeypatch.setattr(accounts, "lock", lock_when_both_are_there)
    errors: list[str] = []
    ids = {"ana": ana.id, "ben": ben.id}

    def demote(actor: str, other: str):
        def work():
            accounts.change_role(
                db.session.get(User, ids[other]),
                "organiser",
                actor=db.session.get(User, ids[actor]),
            )

        return as_another_request(app, work, errors)

    threads = [demote("ana", "ben"), demote("ben", "ana")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 1 and "NoLongerAdmin" in errors[0]
    db.session.rollback()
    admins = select(func.count()).select_from(User).where(User.role == Role.ADMIN)
    assert db.session.scalar(admins) == 1
