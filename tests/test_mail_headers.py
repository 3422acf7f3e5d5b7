"""E-mail headers as two strict parsers read them: subjects, addresses, Reply-To, ORGANIZER."""

import email
import email.header
import email.policy
import re

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import Event
from eventreg.services import outbox
from eventreg.services.programme import SHIPPED_PROGRAMME, load_programme
from tests.support.admin_forms import event_form
from tests.support.mail import smtp_config

# Long titles, each well past one header line, with the characters that broke folding before.
TITLES = {
    "en": "Study mission on socially responsible public procurement of social services in Bergamo",
    "bg": "Учебна мисия за социално отговорни обществени поръчки и социални услуги в Габрово",
    "it": "Missione di studio sugli appalti pubblici socialmente responsabili dei servizi sociali",
    "pt": "Missão de estudo sobre contratação pública socialmente responsável em Torres Vedras",
    "da": "Studierejse om socialt ansvarlige offentlige indkøb og sociale økonomi i Odense Kommune",
    "sv": "Studieresa om socialt ansvarsfull offentlig upphandling och sociala företag i Östersund",
    "es": "Misión de estudio sobre contratación pública socialmente responsable en Cádiz, España",
}
ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp) | {"MAIL_REPLY_TO": "Programme office <office@eventreg.test>"}


def deliver():
    outbox.deliver_all()
    db.session.rollback()


def raw_header(envelope, name: str) -> str:
    """The header exactly as it travelled, folded lines included."""
    head = envelope.content.split(b"\r\n\r\n", 1)[0].decode("ascii")
    match = re.search(rf"^{name}: .*?(?=\r\n\S)", head + "\r\nX", re.M | re.S)
    return match.group(0)


def strict(envelope):
    return email.message_from_bytes(envelope.content, policy=email.policy.strict)


@pytest.mark.parametrize("language", sorted(TITLES))
def test_long_subjects_decode_to_the_intended_text_in_every_language(
    smtp, make_event, sign_up, language
):
    event = make_event(
        title=TITLES["en"], translations={language: {"title": TITLES[language]}}, capacity=None
    )
    sign_up(event, language=language)
    deliver()
    (envelope,) = (smtp.inbox.wait_for(1), smtp.inbox.envelopes)[1]
    with force_locale(language):
        intended = _("Your place at %(title)s", title=TITLES[language])

    assert strict(envelope)["Subject"] == intended
    folded = raw_header(envelope, "Subject")
    unfolded = folded[9:].replace("\r\n", "")  # RFC 5322 unfolding: remove CRLF only
    assert str(email.header.make_header(email.header.decode_header(unfolded))) == intended
    # An encoded word stands alone between whitespace, never glued to text or another word.
    for token in folded[9:].split():
        assert "=?" not in token or ENCODED_WORD.fullmatch(token), token
    assert all(len(line) <= 78 for line in folded.split("\r\n"))


@pytest.mark.parametrize(
    "first_name, last_name",
    [
        ("Eve <x@y>,", "Mallory"),
        ('Eve "x@y",', "<attacker@example.com>, Bob"),
        ("Évé <x@y>,", "Малори; other@example.com"),
        ("=?utf-8?q?x@y?=", "Smith"),
    ],
)
def test_hostile_display_names_stay_one_address(smtp, make_event, sign_up, first_name, last_name):
    registrant = sign_up(make_event(), first_name=first_name, last_name=last_name)
    deliver()
    (envelope,) = (smtp.inbox.wait_for(1), smtp.inbox.envelopes)[1]

    (to,) = strict(envelope)["To"].addresses
    assert to.addr_spec == registrant.email
    if "=?" not in first_name:  # text shaped like an encoded word is decoded by readers
        assert to.display_name == f"{first_name} {last_name}"
    assert envelope.rcpt_tos == [registrant.email]
    legacy = email.utils.getaddresses([raw_header(envelope, "To")[4:].replace("\r\n", "")])
    assert [address for _name, address in legacy] == [registrant.email]


def test_every_mail_has_the_reply_to_and_the_invitation_names_the_organiser(
    smtp, make_event, sign_up
):
    sign_up(make_event())
    deliver()
    (message,) = smtp.inbox.wait_for(1)

    (reply_to,) = message["Reply-To"].addresses
    assert reply_to.addr_spec == "office@eventreg.test"
    assert message["From"].addresses[0].addr_spec == "no-reply@eventreg.localhost"
    invitation = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    (entry,) = Calendar.from_ical(invitation.get_payload(decode=True)).walk("VEVENT")
    assert str(entry["ORGANIZER"]).lower() == "mailto:office@eventreg.test"
    assert entry["ORGANIZER"].params["CN"] == "Programme office"


def test_an_events_own_contact_wins_for_its_mail_and_calendar(smtp, client, make_event, sign_up):
    hosted = make_event(contact_email="missions@bergamo.example", host_partner="Comune di Bergamo")
    sign_up(hosted)
    deliver()
    (message,) = smtp.inbox.wait_for(1)

    assert message["Reply-To"].addresses[0].addr_spec == "missions@bergamo.example"
    invitation = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    (entry,) = Calendar.from_ical(invitation.get_payload(decode=True)).walk("VEVENT")
    assert str(entry["ORGANIZER"]).lower() == "mailto:missions@bergamo.example"
    assert entry["ORGANIZER"].params["CN"] == "Comune di Bergamo"
    (public,) = Calendar.from_ical(client.get(f"/events/{hosted.slug}.ics").data).walk("VEVENT")
    assert str(public["ORGANIZER"]).lower() == "mailto:missions@bergamo.example"


@pytest.mark.parametrize("page", ["/privacy", "/accessibility"])
def test_privacy_notice_and_accessibility_statement_name_the_contact(client, page):
    html = client.get(page).text
    assert 'href="mailto:office@eventreg.test"' in html


def test_without_a_reply_to_mail_has_none_and_pages_name_no_address(
    make_app, smtp, make_event, sign_up
):
    app = make_app(**smtp_config(smtp))
    with app.app_context():
        sign_up(make_event())
        deliver()
        assert app.test_client().get("/privacy").text.count("mailto:") == 0
    (message,) = smtp.inbox.wait_for(1)
    assert message["Reply-To"] is None


def test_organisers_set_an_events_contact_in_the_event_form(client, auth, make_user):
    auth.login(make_user("organiser").email)
    bad = client.post("/admin/events/new", data=event_form(contact_email="not an address"))
    assert bad.status_code == 422 and "Enter a valid e-mail address" in bad.text
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0

    good = client.post("/admin/events/new", data=event_form(contact_email="Events@Gabrovo.BG"))
    assert good.status_code == 302
    event = db.session.scalar(select(Event))
    assert event.contact_email == "events@gabrovo.bg"
    page = client.get(f"/admin/events/{event.slug}/edit").text
    assert 'value="events@gabrovo.bg"' in page


def test_the_programme_file_may_give_an_events_contact(app, tmp_path):
    edited = tmp_path / "programme.toml"
    edited.write_text(
        SHIPPED_PROGRAMME.read_text("utf-8").replace(
            'host_partner = "Comune di Bergamo"',
            'host_partner = "Comune di Bergamo"\ncontact_email = "missioni@comune.bergamo.example"',
        ),
        "utf-8",
    )
    load_programme(edited)
    bergamo = db.session.scalar(select(Event).where(Event.slug == "mission-bergamo"))
    assert bergamo.contact_email == "missioni@comune.bergamo.example"
