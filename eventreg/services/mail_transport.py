"""Where e-mail goes: an SMTP server (Flask-Mail, one connection per batch) or .eml files."""

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from flask import current_app
from flask_mail import BadHeaderError, Message

from ..extensions import mail
from .private_files import private_folder, write_private


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
        private_folder(folder)

    def send(self, message: Message) -> None:
        if message.has_bad_headers():
            raise TransportError("a header contains a line break")
        path = saved_copy(self._folder, message.msgId)
        temporary = path.with_suffix(".tmp")
        write_private(temporary, message.as_bytes())
        temporary.replace(path)


def mail_folder() -> Path:
    return Path(current_app.instance_path) / "mail"


def saved_copy(folder: Path, message_id: str) -> Path:
    """Where the file transport saves the message with this Message-ID."""
    return folder / (message_id.strip("<>").replace("@", "_at_").replace("/", "_") + ".eml")


def remove_saved_copies(message_ids: list[str]) -> int:
    """Delete the saved .eml files of these messages (erasure, purge); returns how many."""
    removed = 0
    for message_id in message_ids:
        path = saved_copy(mail_folder(), message_id)
        for copy in (path, path.with_suffix(".tmp")):
            with suppress(FileNotFoundError):
                copy.unlink()
                removed += 1
    return removed


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
