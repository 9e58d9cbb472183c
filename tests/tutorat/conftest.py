"""Fixtures for the application's tests: a real SMTP server in the test process (aiosmtpd)."""

from __future__ import annotations

import email
import json
import socket
import threading
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


class SmsApi:
    """An in-process HTTP server speaking Brevo's transactional SMS API (POST
    /v3/transactionalSMS/sms, `api-key` header, JSON in and out), so the HTTP adapter is tested
    against real sockets, real status codes and real outages (stop / start)."""

    PATH = "/v3/transactionalSMS/sms"
    KEY = "cle-de-test-sms"

    def __init__(self):
        self.port = _free_port()
        self.received: list[dict] = []
        self.fail_with: int | None = None  # answer this HTTP status instead of accepting
        self.server = None
        self.thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.PATH}"

    def start(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path != api.PATH:
                    return self._answer(404, {"code": "not_found", "message": "Not found"})
                if self.headers.get("api-key") != api.KEY:
                    return self._answer(401, {"code": "unauthorized", "message": "Key not found"})
                try:
                    payload = json.loads(raw)
                except ValueError:
                    return self._answer(400, {"code": "bad_request", "message": "Invalid JSON"})
                missing = [k for k in ("sender", "recipient", "content") if not payload.get(k)]
                if missing or not str(payload["recipient"]).isdigit():
                    return self._answer(
                        400, {"code": "missing_parameter", "message": f"missing {missing}"}
                    )
                if api.fail_with:
                    return self._answer(
                        api.fail_with, {"code": "error", "message": "Service unavailable"}
                    )
                api.received.append(payload)
                return self._answer(
                    201,
                    {
                        "reference": f"ref-{len(api.received)}",
                        "messageId": 1511882900176220 + len(api.received),
                        "smsCount": 1,
                        "usedCredits": 1.0,
                        "remainingCredits": 100.0,
                    },
                )

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def sms_api(app):
    api = SmsApi()
    api.start()
    saved = {
        k: app.config[k] for k in ("SMS_PROVIDER", "SMS_API_URL", "SMS_API_KEY", "SMS_TIMEOUT")
    }
    app.config.update(
        SMS_PROVIDER="brevo", SMS_API_URL=api.url, SMS_API_KEY=SmsApi.KEY, SMS_TIMEOUT=2
    )
    yield api
    api.stop()
    app.config.update(saved)
