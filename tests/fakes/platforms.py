"""Fake platform APIs: one real HTTP server on 127.0.0.1 that answers each platform's documented requests
with the documented shapes (https://docs.joinmastodon.org/methods/accounts/#lookup, ...), so each adapter
is tested over the wire exactly as it talks to the platform.

A test registers what the platform knows (``accounts``: account -> count) and may queue what the next
answers are instead (``queue``: a status, headers and a body, or a delay): an outage, a 429 with
``Retry-After``, a 401, malformed JSON, a timeout. ``requests`` keeps every request (path, query, headers),
so a test can check that a credential went where the platform expects it and nowhere else.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


# A platform's documented answer to one request: (path, query, headers) -> Answer.
Route = Callable[[str, dict[str, str], dict[str, str]], Answer]


class FakePlatforms:
    def __init__(self) -> None:
        self.routes: list[tuple[str, Route]] = []  # (path prefix, route)
        self.queue: list[Answer] = []  # answered first, in order, whatever the request
        self.requests: list[Seen] = []
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, prefix: str, route: Route) -> None:
        self.routes.append((prefix, route))

    def answer(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        self.requests.append(Seen(path, query, headers))
        if self.queue:
            return self.queue.pop(0)
        for prefix, route in self.routes:
            if path.startswith(prefix):
                return route(path, query, headers)
        return Answer(404, {"error": "no such endpoint in the fake"})

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
                answer = fake.answer(parts.path, query, {k.lower(): v for k, v in self.headers.items()})
                time.sleep(answer.delay)
                body = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def platforms() -> Iterator[FakePlatforms]:
    fake = FakePlatforms()
    fake.start()
    yield fake
    fake.stop()


# --- Mastodon: GET /api/v1/accounts/lookup?acct=user -> an Account; 404 {"error": "Record not found"} ----


def mastodon(fake: FakePlatforms, accounts: dict[str, int]) -> None:
    """An instance whose accounts (by user name) have these follower counts."""

    def lookup(_path: str, query: dict[str, str], _headers: dict[str, str]) -> Answer:
        user = query.get("acct", "")
        if user not in accounts:
            return Answer(404, {"error": "Record not found"})
        return Answer(200, {"id": "1", "username": user, "acct": user, "followers_count": accounts[user]})

    fake.route("/api/v1/accounts/lookup", lookup)
