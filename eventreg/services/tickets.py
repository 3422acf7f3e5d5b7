"""QR tickets: the code scanned at the door and a printable ticket around it.

The QR code carries only the ticket secret, never personal data: a lost ticket tells its finder
nothing, and replacing the secret voids it.
"""

import io
import logging
import zlib
from functools import lru_cache
from pathlib import Path

import qrcode
from flask_babel import force_locale
from flask_babel import gettext as _
from PIL import Image, ImageDraw, ImageFont

from ..formatting import day_when, days_zone_name, event_date, event_time, local_title
from ..models import Registration
from .calendar import place

log = logging.getLogger(__name__)

# Debian's fonts-dejavu-core: DejaVu Sans has Cyrillic and every Latin letter our
# registrants' names use; Pillow's bundled font has neither Cyrillic nor æ, ø, å or ç.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
TICKET_WIDTH = 1200
MARGIN = 40
QR_BOX_SIZE = 12
INK = 0
GREY = 90


def qr_png(data: str, *, box_size: int = 10) -> bytes:
    """A PNG of the QR code for ``data`` (error correction M, the standard four-module border)."""
    return _png(_qr_image(data, box_size))


def ticket_png(registration: Registration) -> bytes:
    """A printable ticket: the QR code of the ticket secret beside the event and the person."""
    qr = _qr_image(registration.ticket_secret, QR_BOX_SIZE).convert("L")
    text_left = MARGIN + qr.width + MARGIN
    with force_locale(registration.registrant.language):
        lines = _layout(_ticket_text(registration), TICKET_WIDTH - text_left - MARGIN)
    text_height = sum(spacing for _text, _font, _fill, spacing in lines)
    height = max(qr.height, text_height) + 2 * MARGIN
    ticket = Image.new("L", (TICKET_WIDTH, height), 255)
    ticket.paste(qr, (MARGIN, (height - qr.height) // 2))
    draw = ImageDraw.Draw(ticket)
    draw.rectangle((0, 0, TICKET_WIDTH - 1, height - 1), outline=GREY, width=2)
    y = (height - text_height) // 2
    for text, font, fill, spacing in lines:
        draw.text((text_left, y), text, font=font, fill=fill)
        y += spacing
    return _png(ticket)


@lru_cache(maxsize=8)
def ticket_font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans at ``size`` pixels; Pillow's own font (Latin only) when it is not installed.

    Loaded once a process: every ticket uses the same three.
    """
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        log.warning("%s not found (install fonts-dejavu-core): tickets lose non-Latin names", path)
        return ImageFont.load_default(size)


def _qr_image(data: str, box_size: int) -> Image.Image:
    """The QR code as a black-and-white image, ``box_size`` pixels a module."""
    modules = _qr_modules(data)
    size = len(modules)
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 1 for row in modules for dark in row])
    return image.resize((size * box_size, size * box_size), Image.Resampling.NEAREST)


@lru_cache(maxsize=16)
def _qr_modules(data: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code's modules, border included.

    Choosing the mask pattern is the costly part (about 12 ms); a confirmation draws the same
    code twice (inline and on the printable ticket), so the last few are kept.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def _ticket_text(registration: Registration) -> list[tuple[str, ImageFont.FreeTypeFont, int]]:
    """What the ticket says, top to bottom, each paragraph with its font and colour."""
    event = registration.event
    title, body, name = ticket_font(40, bold=True), ticket_font(28), ticket_font(34, bold=True)
    return [
        (local_title(event), title, INK),
        (event_date(event), body, INK),
        *_hours(event, body),
        (place(event), body, INK),
        (registration.registrant.full_name, name, INK),
        (f"{_('Reference')}: {registration.reference}", body, INK),
    ]


def _hours(event, font: ImageFont.FreeTypeFont) -> list[tuple[str, ImageFont.FreeTypeFont, int]]:
    """The event's hours, or a multi-day event's hours day by day and their time zone."""
    if not event.is_multi_day:
        return [(event_time(event), font, GREY)]
    zone = _("Times in %(zone)s", zone=days_zone_name(event))
    return [*((day_when(day), font, GREY) for day in event.days), (zone, font, GREY)]


def _layout(
    paragraphs: list[tuple[str, ImageFont.FreeTypeFont, int]], width: int
) -> list[tuple[str, ImageFont.FreeTypeFont, int, int]]:
    """Wrap paragraphs into lines no wider than ``width``, each with the height it takes."""
    lines = []
    for text, font, fill in paragraphs:
        *first, last = _wrap(text, font, width)
        lines += [(line, font, fill, round(font.size * 1.3)) for line in first]
        lines.append((last, font, fill, round(font.size * 1.8)))  # a gap before the next
    return lines


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if line and font.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line]


def _png(image: Image.Image) -> bytes:
    # ``optimize=True`` made each QR code 10% smaller and 30 times slower. zlib's run-length
    # strategy suits these white images with black marks: the printable ticket is encoded in
    # half the time (about 2.5 ms less a confirmation) for a quarter more bytes (about 19 kB).
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_type=zlib.Z_RLE)
    return buffer.getvalue()
