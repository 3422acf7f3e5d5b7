"""Signing up on the web: the form, capacity, waiting list, duplicates, bad input."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import EventStatus, Registrant, Registration, RegistrationStatus, utcnow
from tests.support.factories import person


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def form_data(*events, **overrides):
    return person(**overrides) | {"events": [e.slug for e in events], "consent": "y"}


def test_register_page_lists_open_events_only(client, make_event):
    open_event = make_event(title="Open mission")
    make_event(
        title="Closed mission",
        registration_opens_at=utcnow() - timedelta(days=10),
        registration_closes_at=utcnow() - timedelta(days=1),
    )
    page = client.get("/register").get_data(as_text=True)
    assert "Open mission" in page
    assert "Closed mission" not in page
    assert f'value="{open_event.slug}"' in page


def test_event_page_preselects_the_event_on_the_form(client, make_event):
    event = make_event()
    page = client.get(f"/register?event={event.slug}").get_data(as_text=True)
    assert re.search(rf'value="{event.slug}"[^>]*\n?\s*checked', page)


def test_sign_up_confirms_and_shows_reference_and_manage_link(client, make_event):
    event = make_event(capacity=2)
    response = client.post("/register", data=form_data(event, first_name="Søren"))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    registration = db.session.scalar(select(Registration))
    assert registration.status is RegistrationStatus.CONFIRMED
    assert registration.reference in page
    assert "Thank you for registering, Søren" in page
    assert re.search(r"http://eventreg\.test/manage/[\w.-]{20,}", page)


def test_sign_up_for_several_events_in_one_submission(client, make_event):
    first, second = make_event(), make_event(mode="online", city=None, venue=None)
    response = client.post("/register", data=form_data(first, second))
    assert response.status_code == 302
    registrant = db.session.scalar(select(Registrant))
    assert {r.event_id for r in registrant.registrations} == {first.id, second.id}
    assert all(r.is_confirmed for r in registrant.registrations)


def test_consent_is_stored_with_time_and_notice_version(client, app, make_event):
    client.post("/register", data=form_data(make_event()))
    registrant = db.session.scalar(select(Registrant))
    assert registrant.privacy_notice_version == app.config["PRIVACY_NOTICE_VERSION"]
    assert utcnow() - registrant.consent_at < timedelta(minutes=1)


def test_email_is_normalised(client, make_event):
    client.post("/register", data=form_data(make_event(), email="  Giulia.Rossi@Example.ORG "))
    assert db.session.scalar(select(Registrant.email)) == "giulia.rossi@example.org"


def test_an_address_in_another_script_is_kept_in_the_form_every_server_delivers_to(
    client, make_event
):
    event = make_event()
    response = client.post("/register", data=form_data(event, email="иван@пример.бг"))
    assert response.status_code == 422
    assert "Use Latin letters, digits and . _ - + before the @" in response.text
    assert count(Registration) == 0
    response = client.post("/register", data=form_data(event, email="Ivan@Пример.бг"))
    assert response.status_code == 302
    assert db.session.scalar(select(Registrant.email)) == "ivan@xn--e1afmkfd.xn--90ae"


def test_full_event_puts_people_on_the_waiting_list(client, make_event):
    event = make_event(capacity=1)
    client.post("/register", data=form_data(event))
    response = client.post("/register", data=form_data(event))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Waiting list: number 1" in page
    statuses = db.session.scalars(select(Registration.status).order_by(Registration.id)).all()
    assert statuses == [RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]


def test_programme_shows_seats_left_and_waiting_list(client, make_event, sign_up):
    roomy = make_event(title="Roomy", capacity=3)
    full = make_event(title="Full", capacity=1)
    sign_up(roomy)
    sign_up(full)
    page = client.get("/").get_data(as_text=True)
    assert "2 seats left" in page
    assert "Waiting list" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "", "Enter your first name."),
        ("email", "not-an-address", "Enter a valid e-mail address"),
        ("email", "", "Enter your e-mail address."),
        ("organisation", "", "Enter the organisation you represent."),
        ("country", "XX", "Not a valid choice"),
        ("target_group", "", "Choose the group"),
        ("language", "fr", "Not a valid choice"),
        ("last_name", "Rossi\r\nBcc: victim@example.org", "Use a single line"),
        ("first_name", "x" * 101, "Use at most 100 characters."),
    ],
)
def test_invalid_field_is_explained_and_nothing_is_written(
    client, make_event, field, value, message
):
    event = make_event()
    data = form_data(event, organisation="Fundação Boa Vontade") | {field: value}
    response = client.post("/register", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'id="error-summary"' in page
    if field != "organisation":
        assert 'value="Fundação Boa Vontade"' in page  # the rest of the form keeps what was typed
    assert count(Registrant) == 0 and count(Registration) == 0


def test_the_error_summary_lists_the_errors_in_the_pages_order(client, make_event):
    make_event()
    page = client.post("/register", data={}).text
    summary = page[
        page.index('id="error-summary"') : page.index("</ul>", page.index("error-summary"))
    ]
    links = re.findall(r'<a href="#([\w-]+)"', summary)
    on_page = [
        page.index(f'id="{anchor}"', page.index("</ul>", page.index("error-summary")))
        for anchor in links
    ]
    assert links[0] == "events-0" and on_page == sorted(on_page), links


def test_consent_is_required(client, make_event):
    data = form_data(make_event())
    del data["consent"]
    response = client.post("/register", data=data)
    assert response.status_code == 422
    assert "You can only register if you agree to the privacy notice." in response.text
    assert count(Registrant) == 0


def test_no_event_chosen(client, make_event):
    make_event()
    response = client.post("/register", data=form_data())
    assert response.status_code == 422
    assert "Choose at least one event." in response.text


def test_social_economy_type_only_for_social_economy_actors(client, make_event):
    data = form_data(make_event(), target_group="business", social_economy_type="cooperative")
    response = client.post("/register", data=data)
    assert response.status_code == 422
    assert "Only social-economy actors choose a type." in response.text


def test_honeypot_filled_in_by_a_bot_is_refused(client, make_event):
    response = client.post("/register", data=form_data(make_event()) | {"website": "spam"})
    assert response.status_code == 422
    assert count(Registrant) == 0


def test_same_email_cannot_take_two_seats_and_learns_nothing_else(client, make_event):
    event = make_event()
    client.post("/register", data=form_data(event, email="ana@example.org", first_name="Ana"))
    response = client.post(
        "/register", data=form_data(event, email="ANA@example.org", first_name="Mallory")
    )
    assert response.status_code == 422
    assert "already registered" in response.text
    first = db.session.scalar(select(Registration))
    assert first.reference not in response.text
    assert "Ana" not in response.text.replace("Ana@", "")  # the other person's name never shows
    assert count(Registration) == 1


def test_a_closed_event_cannot_be_chosen(client, make_event):
    closed = make_event(
        registration_opens_at=utcnow() - timedelta(days=5),
        registration_closes_at=utcnow() - timedelta(seconds=1),
    )
    response = client.post("/register", data=form_data(closed))
    assert response.status_code == 422
    assert count(Registration) == 0


def test_an_event_over_takes_no_sign_up_whatever_its_window_says(client, make_event):
    """A webinar moved earlier with its registration window left as it was: once it is over,
    its registrations are history. It is not offered, and the form and the API refuse it."""
    now = utcnow()
    over = make_event(
        title="Webinar already held",
        starts_at=now - timedelta(hours=3),
        ends_at=now - timedelta(hours=1),
        registration_closes_at=now + timedelta(days=2),
    )
    assert "Webinar already held" not in client.get("/register").text
    page = client.get(f"/events/{over.slug}").text
    assert "Registration for this event is closed." in page
    assert client.post("/register", data=form_data(over)).status_code == 422
    response = client.post(
        f"/api/v1/events/{over.slug}/registrations", json={**person(), "consent": True}
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "registration_closed"
    assert count(Registration) == 0


def test_a_slug_no_published_event_has_is_not_a_valid_choice(client, make_event):
    """The sign-up finds the chosen events under its lock; drafts and wrong slugs are refused."""
    open_event, draft = make_event(), make_event(status=EventStatus.DRAFT)
    for chosen in ([draft.slug], [open_event.slug, "no-such-event"]):
        data = form_data(open_event) | {"events": chosen}
        response = client.post("/register", data=data)
        assert response.status_code == 422
        assert "Not a valid choice." in response.text
    assert count(Registration) == 0


def test_a_refused_sign_up_offers_every_open_event_again_with_the_choice_kept(client, make_event):
    chosen = make_event(title="Chosen mission")
    make_event(title="Other mission")
    response = client.post("/register", data=form_data(chosen, first_name=""))
    assert response.status_code == 422
    assert "Chosen mission" in response.text and "Other mission" in response.text
    assert re.search(rf'value="{chosen.slug}"[^>]*\n?[^>]*checked', response.text)
    assert count(Registration) == 0


def test_closed_event_page_says_so_and_shows_no_form(client, make_event):
    event = make_event(
        registration_opens_at=utcnow() - timedelta(days=5),
        registration_closes_at=utcnow() - timedelta(seconds=1),
    )
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert "Registration for this event is closed." in page
    assert "/register?event=" not in page


def test_registration_not_yet_open(client, make_event):
    event = make_event(registration_opens_at=utcnow() + timedelta(days=2))
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert "Registration opens on" in page
    assert "Registration is not open for any event" in client.get("/register").text


def test_event_page_shows_time_in_the_events_zone(client, make_event):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    odense = ZoneInfo("Europe/Copenhagen")
    event = make_event(
        timezone="Europe/Copenhagen",
        starts_at=datetime(2030, 5, 26, 9, 0, tzinfo=odense),
        ends_at=datetime(2030, 5, 28, 13, 0, tzinfo=odense),
    )
    page = client.get(f"/events/{event.slug}").get_data(as_text=True)
    assert "09:00 – 13:00 (Central European Summer Time)" in page


def test_unknown_event_is_a_styled_404(client):
    response = client.get("/events/nope")
    assert response.status_code == 404
    assert "Page not found" in response.text and "<main" in response.text


def test_oversized_request_is_refused(client, make_event):
    data = form_data(make_event()) | {"needs": "x" * 300_000}
    response = client.post("/register", data=data)
    assert response.status_code == 413
    assert count(Registrant) == 0


def test_csrf_token_is_required(make_app, make_event):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        response = app.test_client().post("/register", data=form_data(make_event()))
        assert response.status_code == 400
        assert "This form has expired" in response.text
        assert count(Registrant) == 0


def test_form_with_csrf_token_goes_through(make_app, make_event):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        event = make_event()
        page = client.get("/register").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/register", data=form_data(event) | {"csrf_token": token})
        assert response.status_code == 302
