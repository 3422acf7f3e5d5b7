"""The JSON API contract: events, registrations, errors; nothing written on any error."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import AgendaDay, EventStatus, Registrant, Registration, utcnow
from tests.support.factories import person

EVENT_FIELDS = {
    "slug", "language", "title", "description", "status", "kind", "mode", "starts_at", "ends_at",
    "timezone", "city", "capacity", "seats_left", "waitlist_length", "registration_open", "days",
}  # fmt: skip


def registrations_count():
    return db.session.scalar(select(func.count()).select_from(Registration))


def post_registration(client, slug, body):
    return client.post(f"/api/v1/events/{slug}/registrations", json=body)


def api_person(**overrides):
    return {**person(), "consent": True, **overrides}


def test_event_list(client, make_event, sign_up):
    rome = ZoneInfo("Europe/Rome")
    mission = make_event(
        capacity=2,
        starts_at=datetime(2030, 3, 24, 9, tzinfo=rome),
        ends_at=datetime(2030, 3, 26, 13, tzinfo=rome),
    )
    lisbon = ZoneInfo("Europe/Lisbon")
    make_event(
        mode="online",
        city=None,
        venue=None,
        capacity=None,
        timezone="Europe/Lisbon",
        starts_at=datetime(2030, 4, 21, 9, 30, tzinfo=lisbon),
        ends_at=datetime(2030, 4, 21, 16, 30, tzinfo=lisbon),
    )
    sign_up(mission)
    body = client.get("/api/v1/events").get_json()
    first, second = body["events"]
    assert set(first) >= EVENT_FIELDS
    assert first["starts_at"] == "2030-03-24T09:00:00+01:00"
    assert first["timezone"] == "Europe/Rome"
    assert (first["kind"], first["mode"], first["city"]) == ("mission", "in_person", "Bergamo")
    assert (first["capacity"], first["seats_left"], first["waitlist_length"]) == (2, 1, 0)
    assert first["registration_open"] is True
    assert second["city"] is None and second["capacity"] is None and second["seats_left"] is None


def test_one_event_and_unknown_event(client, make_event):
    event = make_event()
    assert client.get(f"/api/v1/events/{event.slug}").get_json()["slug"] == event.slug
    response = client.get("/api/v1/events/nope")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_a_multi_day_event_lists_its_days_with_titles_in_the_language_asked_for(client, make_event):
    rome = ZoneInfo("Europe/Rome")
    days = [
        AgendaDay(
            datetime(2030, 3, 24, 9, tzinfo=rome),
            datetime(2030, 3, 24, 18, tzinfo=rome),
            "Co-design",
        ),
        AgendaDay(
            datetime(2030, 3, 25, 9, tzinfo=rome),
            datetime(2030, 3, 25, 13, tzinfo=rome),
            "Site visits",
        ),
        AgendaDay(
            datetime(2030, 3, 26, 9, tzinfo=rome), datetime(2030, 3, 26, 12, tzinfo=rome), None
        ),
    ]
    mission = make_event(
        starts_at=days[0].starts_at,
        ends_at=days[-1].ends_at,
        agenda=days,
        translations={"it": {"days": {"2030-03-24": "Co-progettazione"}}},
    )
    one_day = make_event(slug="one-day")

    italian = client.get(f"/api/v1/events/{mission.slug}", headers={"Accept-Language": "it"})
    assert italian.get_json()["days"] == [
        {
            "starts_at": "2030-03-24T09:00:00+01:00",
            "ends_at": "2030-03-24T18:00:00+01:00",
            "title": "Co-progettazione",
            "language": "it",
        },
        {
            "starts_at": "2030-03-25T09:00:00+01:00",
            "ends_at": "2030-03-25T13:00:00+01:00",
            "title": "Site visits",
            "language": "en",
        },
        {
            "starts_at": "2030-03-26T09:00:00+01:00",
            "ends_at": "2030-03-26T12:00:00+01:00",
            "title": None,
            "language": None,
        },
    ]
    assert client.get(f"/api/v1/events/{one_day.slug}").get_json()["days"] == []


def test_register_confirmed_then_waitlisted(client, make_event):
    event = make_event(capacity=1)
    first = post_registration(client, event.slug, api_person())
    assert first.status_code == 201
    assert first.get_json()["status"] == "confirmed"
    assert first.get_json()["event"] == event.slug
    assert first.get_json()["reference"].startswith("ER-")
    second = post_registration(client, event.slug, api_person(needs="Step-free access"))
    assert second.status_code == 201 and second.get_json()["status"] == "waitlisted"
    stored = db.session.scalar(select(Registrant).order_by(Registrant.id.desc()))
    assert stored.needs == "Step-free access"


def test_optional_fields_are_stored(client, make_event):
    event = make_event()
    body = api_person(
        job_title="Procurement officer",
        social_economy_type="cooperative",
        network_opt_in=True,
    )
    assert post_registration(client, event.slug, body).status_code == 201
    registrant = db.session.scalar(select(Registrant))
    assert registrant.job_title == "Procurement officer"
    assert registrant.social_economy_type.value == "cooperative"
    assert registrant.network_opt_in is True


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"first_name", "last_name", "email", "organisation", "country", "target_group",
              "language", "consent"}),
        (api_person(email="nope"), {"email"}),
        (api_person(country="ZZ"), {"country"}),
        (api_person(country="it"), {"country"}),
        (api_person(target_group="charity"), {"target_group"}),
        (api_person(language="fr"), {"language"}),
        (api_person(consent=False), {"consent"}),
        (api_person(consent="yes"), {"consent"}),
        (api_person(first_name=42), {"first_name"}),
        (api_person(first_name=["a"]), {"first_name"}),
        (api_person(last_name="X\r\nBcc: a@b.c"), {"last_name"}),
        (api_person(network_opt_in="true"), {"network_opt_in"}),
    ],
)  # fmt: skip
def test_invalid_input_gets_field_errors_and_writes_nothing(client, make_event, body, fields):
    event = make_event()
    response = post_registration(client, event.slug, body)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == fields
    assert all(isinstance(m, str) and m for messages in errors.values() for m in messages)
    assert registrations_count() == 0


def test_not_json_is_415_and_malformed_json_is_400(client, make_event):
    event = make_event()
    url = f"/api/v1/events/{event.slug}/registrations"
    assert client.post(url, data="first_name=x").status_code == 415
    response = client.post(url, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert (
        client.post(url, data=json.dumps([1, 2]), content_type="application/json").status_code
        == 400
    )
    bad_utf8 = client.post(url, data=b'{"first_name": "\xff"}', content_type="application/json")
    assert bad_utf8.status_code == 400
    assert registrations_count() == 0


def test_duplicate_email_is_409(client, make_event):
    event = make_event()
    assert (
        post_registration(client, event.slug, api_person(email="a@example.org")).status_code == 201
    )
    response = post_registration(client, event.slug, api_person(email="A@example.org"))
    assert response.status_code == 409
    assert response.get_json()["error"] == "already_registered"
    assert registrations_count() == 1


def test_closed_registration_is_409(client, make_event):
    event = make_event(
        registration_opens_at=utcnow() - timedelta(days=3),
        registration_closes_at=utcnow() - timedelta(days=1),
    )
    response = post_registration(client, event.slug, api_person())
    assert response.status_code == 409
    assert response.get_json()["error"] == "registration_closed"
    assert registrations_count() == 0


def test_unknown_event_is_404(client):
    assert post_registration(client, "nope", api_person()).status_code == 404
    assert registrations_count() == 0


def test_a_draft_is_as_unknown_as_a_wrong_slug(client, make_event):
    draft = make_event(status=EventStatus.DRAFT)
    response = post_registration(client, draft.slug, api_person())
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert registrations_count() == 0


def test_a_wrong_address_is_a_404_before_the_body_is_judged(client, make_event):
    event = make_event()
    assert post_registration(client, "nope", api_person(email="no")).status_code == 404
    assert post_registration(client, event.slug, api_person(email="no")).status_code == 422


def test_a_sign_up_is_one_transaction_of_six_statements(app, client, make_event):
    """Find and lock the event, count its seats and the address, write four rows (issue 18)."""
    event = make_event(capacity=1)
    post_registration(client, event.slug, api_person())  # the seat; the next one waits
    sent = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = post_registration(client, event.slug, api_person())
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 201 and response.get_json()["status"] == "waitlisted"
    sent = [statement for statement in sent if not statement.startswith("BEGIN")]
    # The log lines' new ids are never read: PostgreSQL is not asked to return them.
    assert not any("RETURNING" in statement for statement in sent[-2:])
    assert [" ".join(statement.split()[:3]) for statement in sent] == [
        "SELECT event.id, event.slug,",
        "SELECT event.id, (SELECT",
        "INSERT INTO registrant",
        "INSERT INTO registration",
        "INSERT INTO audit_entry",
        "INSERT INTO outbox_message",
    ]


def test_openapi_document_describes_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    routed = {
        (rule.rule.replace("<", "{").replace(">", "}"), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routed
    required = set(spec["components"]["schemas"]["Event"]["required"])
    assert required == EVENT_FIELDS
