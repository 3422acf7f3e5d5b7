"""The private manage page: see, correct, cancel, add events; forged links get nothing."""

from eventreg.extensions import db
from eventreg.models import RegistrationStatus
from eventreg.services.manage_links import manage_token
from tests.support.factories import person


def manage_path(registrant):
    return f"/manage/{manage_token(registrant)}"


def test_manage_page_shows_the_registration_privately(client, make_event, sign_up):
    event = make_event()
    registrant = sign_up(event, first_name="Иван", last_name="Петров")
    response = client.get(manage_path(registrant))
    assert response.status_code == 200
    assert "Иван" in response.text and registrant.registrations[0].reference in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_forged_or_tampered_links_are_not_found(client, make_event, sign_up):
    registrant = sign_up(make_event())
    token = manage_token(registrant)
    assert client.get(f"/manage/{token[:-2]}xx").status_code == 404
    assert client.get("/manage/" + registrant.manage_key).status_code == 404
    assert client.get("/manage/nonsense").status_code == 404


def test_correcting_details(client, make_event, sign_up):
    registrant = sign_up(make_event())
    data = person(first_name="Sofía", email="sofia@example.es", country="ES", language="es")
    response = client.post(manage_path(registrant) + "/details", data=data)
    assert response.status_code == 302
    db.session.refresh(registrant)
    assert (registrant.first_name, registrant.email, registrant.country) == (
        "Sofía",
        "sofia@example.es",
        "ES",
    )


def test_invalid_correction_changes_nothing(client, make_event, sign_up):
    registrant = sign_up(make_event(), email="keep@example.org")
    data = person(email="broken", first_name="Changed")
    response = client.post(manage_path(registrant) + "/details", data=data)
    assert response.status_code == 422
    assert "Enter a valid e-mail address" in response.text
    db.session.refresh(registrant)
    assert registrant.email == "keep@example.org"
    assert registrant.first_name != "Changed"


def test_cancelling_frees_the_seat_for_the_waiting_list(client, make_event, sign_up):
    event = make_event(capacity=1)
    holder, waiting = sign_up(event), sign_up(event)
    reference = holder.registrations[0].reference
    cancel = f"{manage_path(holder)}/registrations/{reference}/cancel"
    response = client.post(cancel, data={"confirm": "yes"})
    assert response.status_code == 302
    assert "is cancelled" in client.get(response.headers["Location"]).text
    db.session.expire_all()
    assert holder.registrations[0].status is RegistrationStatus.CANCELLED
    assert waiting.registrations[0].status is RegistrationStatus.CONFIRMED


def test_cannot_cancel_someone_elses_registration(client, make_event, sign_up):
    event = make_event()
    mine, theirs = sign_up(event), sign_up(event)
    other_reference = theirs.registrations[0].reference
    response = client.post(f"{manage_path(mine)}/registrations/{other_reference}/cancel")
    assert response.status_code == 404
    db.session.refresh(theirs.registrations[0])
    assert theirs.registrations[0].is_confirmed


def test_adding_events_without_typing_details_again(client, make_event, sign_up):
    first, second = make_event(), make_event(title="Webinar 2")
    registrant = sign_up(first)
    page = client.get(manage_path(registrant)).text
    assert "Webinar 2" in page
    response = client.post(manage_path(registrant) + "/events", data={"events": [second.slug]})
    assert response.status_code == 302
    db.session.refresh(registrant)
    assert {r.event_id for r in registrant.registrations} == {first.id, second.id}


def test_adding_no_event_is_explained(client, make_event, sign_up):
    make_event()
    registrant = sign_up(make_event())
    response = client.post(manage_path(registrant) + "/events", data={})
    assert response.status_code == 422
    assert "Choose at least one event." in response.text
