"""QR tickets: the code at the door reads back as the ticket secret and nothing else."""

import io

import pytest
import zxingcpp
from PIL import Image

from eventreg.models import EventKind, EventMode
from eventreg.services import tickets

NAMES = [("Иван", "Петров"), ("Søren", "Æbelø"), ("João", "Conceição")]


def scan(png: bytes) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def registration_of(registrant):
    return registrant.registrations[0]


def test_qr_code_carries_exactly_the_ticket_secret(app, make_event, sign_up):
    registration = registration_of(sign_up(make_event()))

    assert scan(tickets.qr_png(registration.ticket_secret)) == [registration.ticket_secret]


def test_qr_code_grows_with_the_box_size():
    small = Image.open(io.BytesIO(tickets.qr_png("x", box_size=4)))
    large = Image.open(io.BytesIO(tickets.qr_png("x", box_size=10)))

    assert small.format == large.format == "PNG"
    assert large.size == (small.width * 10 // 4, small.height * 10 // 4)


@pytest.mark.parametrize(("first_name", "last_name"), NAMES)
def test_ticket_scans_as_its_secret(app, make_event, sign_up, first_name, last_name):
    registration = registration_of(
        sign_up(make_event(), first_name=first_name, last_name=last_name)
    )

    png = tickets.ticket_png(registration)

    assert Image.open(io.BytesIO(png)).format == "PNG"
    assert scan(png) == [registration.ticket_secret]


def test_online_ticket_scans_as_its_secret(app, make_event, sign_up):
    event = make_event(kind=EventKind.WEBINAR, mode=EventMode.ONLINE, city=None, venue=None)
    registration = registration_of(sign_up(event, language="bg"))

    assert scan(tickets.ticket_png(registration)) == [registration.ticket_secret]


def test_long_title_and_name_wrap_inside_the_ticket(app, make_event, sign_up):
    event = make_event(title="Study mission on socially responsible public procurement " * 3)
    registration = registration_of(
        sign_up(event, first_name="Мария-Александра", last_name="Константинова " * 4)
    )

    png = tickets.ticket_png(registration)
    ticket = Image.open(io.BytesIO(png))
    right_margin = ticket.crop(
        (ticket.width - tickets.MARGIN + 4, 4, ticket.width - 4, ticket.height - 4)
    )

    assert right_margin.getextrema() == (255, 255)
    assert scan(png) == [registration.ticket_secret]


@pytest.mark.parametrize("bold", [False, True])
def test_ticket_font_has_the_letters_of_every_name(bold):
    font = tickets.ticket_font(28, bold=bold)
    missing_glyph = bytes(font.getmask("\U0010fffd"))

    letters = set("".join(first + last for first, last in NAMES))

    assert [
        letter for letter in sorted(letters) if bytes(font.getmask(letter)) == missing_glyph
    ] == []
