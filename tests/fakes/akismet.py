"""A fake Akismet: a real HTTP server on 127.0.0.1 speaking the documented REST endpoints
(https://akismet.com/developers/): ``/1.1/verify-key``, ``/1.1/comment-check``, ``/1.1/submit-spam`` and
``/1.1/submit-ham``, form-encoded bodies, one-word answers and Akismet's headers.

Tests choose its answers (``verdict``, ``failure``) and read what it was sent (``requests``); it can be
stopped and started again on the same port to play an outage (a refused connection while down).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

VALID_KEY = "0123456789ab"
THANKS = "Thanks for making the web a better place."


@dataclass
class Received:
    endpoint: str  # "comment-check", "submit-ham", ...
    form: dict[str, str]


class FakeAkismet:
    def __init__(self) -> None:
        self.valid_keys = {VALID_KEY}
        self.verdict = "false"  # comment-check: "false" (ham), "true" (spam) or "discard"
        # None, or how every endpoint fails: "500", "invalid" (the body Akismet answers a bad key with),
        # "debug_help" (an X-akismet-debug-help header), "slow" (answers after ``slow_seconds``).
        self.failure: str | None = None
        self.slow_seconds = 1.5
        self.requests: list[Received] = []
        self.while_answering: Callable[[], None] | None = None  # run before each answer (in its thread)
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calls(self, endpoint: str) -> list[dict[str, str]]:
        return [r.form for r in self.requests if r.endpoint == endpoint]

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                endpoint = self.path.removeprefix("/1.1/")
                fake.requests.append(Received(endpoint, form))
                fake.answer(self, endpoint, form)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer(self, handler: BaseHTTPRequestHandler, endpoint: str, form: dict[str, str]) -> None:
        headers: dict[str, str] = {}
        status = 200
        if self.while_answering is not None:
            self.while_answering()
        if self.failure == "slow":
            time.sleep(self.slow_seconds)
        if self.failure == "500":
            status, body = 500, "Internal Server Error"
        elif self.failure == "debug_help":
            body, headers["X-akismet-debug-help"] = "false", "Empty 'user_ip' value"
        elif self.failure == "invalid" or form.get("api_key") not in self.valid_keys:
            body = "invalid"
            headers["X-akismet-debug-help"] = "We were unable to verify your API key."
        elif endpoint == "verify-key":
            body = "valid"
        elif endpoint == "comment-check":
            body = "false" if self.verdict == "false" else "true"
            if self.verdict == "discard":
                headers["X-akismet-pro-tip"] = "discard"
        elif endpoint in ("submit-spam", "submit-ham"):
            body = THANKS
        else:
            status, body = 404, "Not found"
        encoded = body.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain; charset=utf-8")
        handler.send_header("Content-Length", str(len(encoded)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(encoded)


@pytest.fixture(name="akismet")
def akismet_fixture() -> Iterator[FakeAkismet]:
    fake = FakeAkismet()
    fake.start()
    yield fake
    fake.stop()
