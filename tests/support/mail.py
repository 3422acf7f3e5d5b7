"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

import asyncio
import email
import email.policy
import time

import pytest
from aiosmtpd.controller import Controller

from tests.support.net import free_port


class Inbox:
    """An aiosmtpd handler that keeps what it receives; it can stall or refuse on demand."""

    def __init__(self):
        self.envelopes = []
        self.stall_at_message: int | None = None  # stall MAIL FROM of the n-th message (1-based)
        self.mail_from_count = 0
        self.reply_delay = 0.0  # seconds the server takes to accept each message after DATA
        self.receiving = 0  # messages whose DATA arrived, accepted yet or not

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_from_count += 1
        if self.mail_from_count == self.stall_at_message:
            await asyncio.sleep(60)
            return "451 Try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.receiving += 1
        await asyncio.sleep(self.reply_delay)
        self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self):
        return [
            email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes
        ]

    def wait_for(self, count: int, timeout: float = 10) -> list:
        """Delivery is asynchronous: wait until ``count`` messages arrived."""
        deadline = time.monotonic() + timeout
        while len(self.envelopes) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


class SmtpServer:
    def __init__(self, port: int):
        self.port = port
        self.inbox = Inbox()
        self._controller = None

    def start(self):
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp():
    """A real SMTP server on loopback, started; ``smtp.stop()``/``start()`` to take it down."""
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def smtp_config(server: SmtpServer) -> dict:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": server.port,
        "OUTBOX_BACKOFF_SECONDS": 0,
        "BASE_URL": "http://eventreg.test",
    }
