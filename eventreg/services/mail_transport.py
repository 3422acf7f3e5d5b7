"""Where e-mail goes: an SMTP server (Flask-Mail, one connection per batch) or .eml files."""

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from flask import current_app
from flask_mail import BadHeaderError, Message

from ..extensions import mail


class TransportError(Exception):
    """A message was not accepted; ``connection_lost`` when the server itself is unreachable."""

    def __init__(self, message: str, connection_lost: bool = False):
        super().__init__(message)
        self.connection_lost = connection_lost


class SmtpTransport:
    """Sends over one SMTP connection opened by Flask-Mail."""

    def __init__(self, connection):
        self._connection = connection

    def send(self, message: Message) -> None:
        try:
            self._connection.send(message)
        except BadHeaderError as exc:
            raise TransportError("a header contains a line break") from exc
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as exc:
            raise TransportError(f"refused by the server: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransportError(f"SMTP connection failed: {exc}", connection_lost=True) from exc


class FileTransport:
    """Saves each message as an .eml file, so the service works without a mail server."""

    def __init__(self, folder: Path):
        self._folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: Message) -> None:
        if message.has_bad_headers():
            raise TransportError("a header contains a line break")
        name = message.msgId.strip("<>").replace("@", "_at_").replace("/", "_") + ".eml"
        path = self._folder / name
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(message.as_bytes())
        temporary.replace(path)


def mail_folder() -> Path:
    return Path(current_app.instance_path) / "mail"


def uses_smtp() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


@contextmanager
def open_transport() -> Iterator[SmtpTransport | FileTransport]:
    """The configured transport, connected for a batch."""
    if not uses_smtp():
        yield FileTransport(mail_folder())
        return
    try:
        connection = mail.connect()
        connection.__enter__()
        # Flask-Mail sets no timeout: a stalled server must not hang the sender forever.
        connection.host.sock.settimeout(current_app.config["MAIL_TIMEOUT_SECONDS"])
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise TransportError(f"cannot reach the SMTP server: {exc}", connection_lost=True) from exc
    try:
        yield SmtpTransport(connection)
    finally:
        # The server may have hung up first; every message's fate is already recorded.
        with suppress(smtplib.SMTPException, OSError):
            connection.__exit__(None, None, None)
