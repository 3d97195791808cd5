"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping what arrives.

``MailSink`` is the server's handler: it parses every accepted message into an
``EmailMessage`` and can refuse recipients (``refuse = "550 ..."`` or a 4xx) the way a
server refuses an unknown mailbox or defers one.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.servers import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class MailSink:
    received: list[Received] = field(default_factory=list)
    #: An SMTP reply for every RCPT TO, e.g. "550 5.1.1 No such user"; None accepts.
    refuse: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: list[str]) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def clear(self) -> None:
        self.received.clear()
        self.refuse = None


@contextmanager
def smtp_server(sink: MailSink, **options: Any) -> Iterator[Controller]:
    """An SMTP server handing mail to ``sink`` on 127.0.0.1 (``controller.port``), stopped
    afterwards; ``options`` go to aiosmtpd (``tls_context``, ``ssl_context``, ...)."""
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def parts(message: EmailMessage) -> dict[str, str]:
    """The text of each part of ``message`` by content type (text/plain, text/html), with
    the line ends of SMTP (CRLF) read as newlines."""
    found = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            found[part.get_content_type()] = part.get_content().replace("\r\n", "\n")
    return found
