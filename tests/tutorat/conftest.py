"""Fixtures for the application's tests: a real SMTP server in the test process (aiosmtpd)."""

from __future__ import annotations

import email
import socket
import threading
from email.policy import default as default_policy

import pytest


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPServer:
    def __init__(self):
        self.port = _free_port()
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(app):
    server = SMTPServer()
    server.start()
    state = app.extensions["mail"]
    saved = (state.server, state.port, state.suppress, state.use_tls, state.use_ssl)
    state.server, state.port, state.suppress, state.use_tls, state.use_ssl = (
        "127.0.0.1",
        server.port,
        False,
        False,
        False,
    )
    yield server
    server.stop()
    state.server, state.port, state.suppress, state.use_tls, state.use_ssl = saved
