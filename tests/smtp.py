"""A real SMTP server in the test process (aiosmtpd on 127.0.0.1, its own thread), for the mail tests.

It can be stopped and started again on the same port to play an outage, and it can refuse chosen
recipients with a code, as a real server would.
"""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.services import unavailable

_URL = re.compile(r"https?://[^\s<>\"]+")


class Inbox:
    """aiosmtpd handler: keeps every message it accepts; refuses the recipients in ``refuse``."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.refuse: dict[str, str] = {}  # address -> SMTP reply, e.g. "550 5.1.1 no such user"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.original_content)
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=default_policy))
        return "250 Message accepted for delivery"


class SmtpServer:
    """The server, its inbox, and the app settings that point at it."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller: Any = None

    @property
    def settings(self) -> dict[str, Any]:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_TIMEOUT": 5}

    def start(self) -> None:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            unavailable("aiosmtpd")
        # A stopped controller has closed its event loop, so every start gets a new one.
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        """Every message received for ``address``."""
        return [m for m in self.inbox.messages if m["To"].addresses[0].addr_spec == address]

    def one_to(self, address: str) -> EmailMessage:
        messages = self.to(address)
        assert len(messages) == 1, f"{len(messages)} messages to {address}"
        return messages[0]


@contextmanager
def running_smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="smtp")
def smtp_fixture() -> Iterator[SmtpServer]:
    """``smtp``: a running server for one test. Import ``smtp_fixture`` to use it in a test module."""
    with running_smtp_server() as server:
        yield server


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def link_paths(message: EmailMessage, contains: str = "") -> list[str]:
    """Paths (with query) of the links in a message's text part, for the test client to follow."""
    paths = []
    for url in _URL.findall(text_of(message)):
        parts = urlsplit(url)
        if contains in parts.path:
            paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def link_path(message: EmailMessage, contains: str) -> str:
    (path,) = link_paths(message, contains)
    return path
