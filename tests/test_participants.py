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
from tests.support.mail import smtp_config


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
    assert re.search(r"24 March 2031, 09:00.*→.*25 March 2031, 10:30", when)
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


# A lost manage link


def test_resend_form_mails_the_link_in_the_registrants_language(client, smtp, make_event, sign_up):
    registrant = sign_up(make_event(), email="ana@example.pt", language="pt")
    delivered(smtp, 1)  # the confirmation, long lost
    assert 'href="/manage/resend"' in client.get("/register").text

    response = client.post("/manage/resend", data={"email": "  Ana@Example.PT "})

    assert response.status_code == 200
    assert "If this address is registered" in response.text
    message = delivered(smtp, 2)[-1]
    assert message["To"].addresses[0].addr_spec == "ana@example.pt"
    with force_locale("pt"):
        assert message["Subject"] == _("Your link to manage your registration")
    link = next(word for word in text_of(message).split() if "/manage/" in word)
    assert link == f"http://eventreg.test{manage_path(registrant)}"
    assert client.get(link.replace("http://eventreg.test", "")).status_code == 200


def test_resend_answers_the_same_for_an_unknown_address_and_sends_nothing(
    client, smtp, make_event, sign_up
):
    sign_up(make_event(), email="known@example.org")
    delivered(smtp, 1)
    known = client.post("/manage/resend", data={"email": "known@example.org"})
    unknown = client.post("/manage/resend", data={"email": "nobody@example.org"})
    assert (unknown.status_code, unknown.text) == (known.status_code, known.text)
    assert outbox.deliver_all().sent == 1
    assert smtp.inbox.wait_for(2)[-1]["To"].addresses[0].addr_spec == "known@example.org"


def test_resend_sends_one_mail_per_address_in_a_while(client, smtp, make_event, sign_up):
    sign_up(make_event(), email="known@example.org")
    delivered(smtp, 1)
    for _attempt in range(3):
        assert client.post("/manage/resend", data={"email": "known@example.org"}).status_code == 200
    assert outbox.deliver_all().sent == 1


def test_resend_rejects_a_malformed_address_and_sends_nothing(client, smtp):
    response = client.post("/manage/resend", data={"email": "not an address"})
    assert response.status_code == 422
    assert "Enter a valid e-mail address" in response.text
    assert outbox.deliver_all().claimed == 0


def test_resend_is_rate_limited(make_app, smtp):
    app = make_app(**smtp_config(smtp), RATELIMIT_ENABLED=True, RATELIMIT_RESEND="2 per hour")
    with app.app_context():
        client = app.test_client()
        codes = [
            client.post("/manage/resend", data={"email": f"p{n}@example.org"}).status_code
            for n in range(3)
        ]
    assert codes == [200, 200, 429]
