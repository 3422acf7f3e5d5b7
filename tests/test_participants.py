"""What participants meet: their language, a confirmation before cancelling, queue positions."""

from eventreg.extensions import db
from eventreg.models import RegistrationStatus
from eventreg.services.manage_links import manage_token


def manage_path(registrant):
    return f"/manage/{manage_token(registrant)}"


def test_manage_page_opens_in_the_registrants_language(client, make_event, sign_up):
    registrant = sign_up(make_event(), language="pt")
    page = client.get(manage_path(registrant), headers={"Accept-Language": "en"}).text
    assert '<html lang="pt"' in page


def test_a_language_picked_on_the_site_still_wins(client, make_event, sign_up):
    registrant = sign_up(make_event(), language="pt")
    client.post("/language", data={"language": "da", "next": "/"})
    assert '<html lang="da"' in client.get(manage_path(registrant)).text


def test_cancelling_asks_for_confirmation_first(client, make_event, sign_up):
    registrant = sign_up(make_event(title="Study mission to Odense"))
    registration = registrant.registrations[0]
    cancel = f"{manage_path(registrant)}/registrations/{registration.reference}/cancel"
    page = client.get(manage_path(registrant)).text
    assert f'href="{cancel}"' in page  # a link to the question, not a button that cancels

    question = client.get(cancel)
    assert question.status_code == 200
    assert "Cancel your registration?" in question.text
    assert "Study mission to Odense" in question.text
    assert client.post(cancel).status_code == 200  # without the confirmation: asked again
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.CONFIRMED

    assert client.post(cancel, data={"confirm": "yes"}).status_code == 302
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.CANCELLED
    assert client.get(cancel).status_code == 404  # nothing left to cancel


def test_manage_page_gives_the_waiting_list_position(client, make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    sign_up(event)
    third = sign_up(event)
    assert "Waiting list: number 2" in client.get(manage_path(third)).text
