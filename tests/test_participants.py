"""What participants meet: their language, a confirmation before cancelling, queue positions."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from eventreg.extensions import db
from eventreg.models import RegistrationStatus
from eventreg.services import events, outbox
from eventreg.services.manage_links import manage_token
from tests.conftest import smtp_config


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


# E-mails that say where the person stands and what changed


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


def delivered(smtp, count):
    outbox.deliver_all()
    db.session.rollback()
    return smtp.inbox.wait_for(count)


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_waiting_list_mail_gives_the_position(smtp, make_event, sign_up):
    event = make_event(capacity=1)
    sign_up(event)
    sign_up(event)
    sign_up(event, email="third@example.org", language="it")
    messages = delivered(smtp, 3)
    third = next(m for m in messages if m["To"].addresses[0].addr_spec == "third@example.org")
    with force_locale("it"):
        expected = _("You are number %(position)d on the waiting list.", position=2)
    assert expected in text_of(third)
    assert expected in third.get_body(("html",)).get_content()


def test_event_changed_mail_says_what_changed_old_to_new(smtp, make_event, make_user, sign_up):
    rome = ZoneInfo("Europe/Rome")
    event = make_event(
        starts_at=datetime(2031, 3, 24, 9, 0, tzinfo=rome),
        ends_at=datetime(2031, 3, 24, 13, 0, tzinfo=rome),
        city="Bergamo",
        venue="Palazzo Frizzoni",
    )
    sign_up(event)
    delivered(smtp, 1)
    events.update_event(
        event,
        {
            "starts_at": datetime(2031, 3, 25, 10, 30, tzinfo=rome),
            "ends_at": datetime(2031, 3, 25, 14, 0, tzinfo=rome),
            "venue": "Teatro Donizetti",
        },
        actor=make_user("organiser"),
    )
    _, update = delivered(smtp, 2)
    text = text_of(update)
    assert "What changed" in text
    when = next(line for line in text.splitlines() if line.startswith("- When: "))
    assert re.search(r"March 24, 2031.*9:00\s*AM.*→.*March 25, 2031.*10:30\s*AM", when)
    where = next(line for line in text.splitlines() if line.startswith("- Where: "))
    assert where == "- Where: Palazzo Frizzoni, Bergamo → Teatro Donizetti, Bergamo"


def test_a_new_meeting_link_is_reported_without_showing_it(smtp, make_event, make_user, sign_up):
    event = make_event(mode="online", city=None, venue=None, online_url="https://meet.example/a")
    sign_up(event)
    delivered(smtp, 1)
    events.update_event(
        event, {"online_url": "https://meet.example/b"}, actor=make_user("organiser")
    )
    _, update = delivered(smtp, 2)
    text = text_of(update)
    assert "The meeting link has changed" in text
    assert "meet.example" not in text
