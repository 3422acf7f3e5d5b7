"""Outgoing e-mail serialised by the standard library, so every header follows RFC 5322/2047.

Flask-Mail's own serialiser encodes subjects and names by hand; the ``email`` package with
``policy.SMTP`` folds encoded words correctly and quotes display names, so a name such as
``Eve <x@y>,`` stays one address.
"""

from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy
from email.utils import formatdate, parseaddr

from flask_mail import Message


class _SmtpPolicy(EmailPolicy):
    """``policy.SMTP``, except that non-ASCII subjects and names are wholly encoded words.

    Python 3.11 folds mixed text as ``word \\r\\n =?utf-8?q?...?=``, which unfolds with two
    spaces (and splits words inside names); ``email.header.Header`` keeps every space inside
    the encoded words, which any reader decodes back to the exact text.
    """

    def fold(self, name, value):
        return self._encoded(name, value) or super().fold(name, value)

    def fold_binary(self, name, value):
        encoded = self._encoded(name, value)
        return encoded.encode("ascii") if encoded else super().fold_binary(name, value)

    def _encoded(self, name, value) -> str | None:
        if str(value).isascii():
            return None
        if name.lower() == "subject":
            text = self._words(name, str(value))
        elif name.lower() in _ADDRESS_HEADERS:
            text = f",{self.linesep} ".join(
                f"{self._words(name, one.display_name)}{self.linesep} <{one.addr_spec}>"
                if one.display_name
                else one.addr_spec
                for one in value.addresses
            )
        else:
            return None
        return f"{name}: {text}{self.linesep}"

    def _words(self, name: str, text: str) -> str:
        return Header(text, "utf-8", header_name=name).encode(linesep=self.linesep)


_ADDRESS_HEADERS = ("from", "to", "cc", "reply-to", "sender")
POLICY = _SmtpPolicy() + SMTP


def address(value: str | tuple[str, str], name: str | None = None) -> Address:
    """An address header value from ``"Name <a@b>"``, ``(name, a@b)`` or a bare address."""
    found_name, addr_spec = value if isinstance(value, tuple) else parseaddr(value)
    return Address(display_name=name if name is not None else found_name, addr_spec=addr_spec)


class MailMessage(Message):
    """A Flask-Mail message (same transports) whose bytes come from ``email.message``."""

    def __init__(self, *, to: Address, reply_to: str | None = None, **kwargs):
        super().__init__(recipients=[to.addr_spec], reply_to=reply_to, **kwargs)
        self.to = to

    def _message(self) -> EmailMessage:
        message = EmailMessage(policy=POLICY)
        message["Subject"] = self.subject
        message["From"] = address(self.sender)
        message["To"] = self.to
        if self.reply_to:
            message["Reply-To"] = address(self.reply_to)
        message["Date"] = formatdate(self.date, localtime=True)
        message["Message-ID"] = self.msgId
        message.set_content(self.body or "", cte="quoted-printable")
        if self.html:
            message.add_alternative(self.html, subtype="html", cte="quoted-printable")
        for attachment in self.attachments:
            self._add(message, attachment)
        return message

    @staticmethod
    def _add(message: EmailMessage, attachment) -> None:
        kind, *parameters = (part.strip() for part in attachment.content_type.split(";"))
        maintype, subtype = kind.split("/")
        params = dict(parameter.split("=", 1) for parameter in parameters)
        headers = dict(attachment.headers or {})
        content_id = headers.pop("Content-ID", None)
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            disposition=attachment.disposition or "attachment",
            filename=attachment.filename,
            cid=content_id,
            params=params,
        )
