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
        self.delay = 0.0  # every routed answer waits this long (requests in flight overlap)
        self.in_flight = 0
        self.most_in_flight = 0  # the most requests it was answering at once
        self._counting = threading.Lock()
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
                with fake._counting:
                    fake.in_flight += 1
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                answer = fake.answer(parts.path, query, {k.lower(): v for k, v in self.headers.items()})
                time.sleep(answer.delay or fake.delay)
                with fake._counting:
                    fake.in_flight -= 1
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


# --- Bluesky: GET /xrpc/app.bsky.actor.getProfile?actor= -> a profile; 400 {"error", "message"} -----------


def bluesky(fake: FakePlatforms, actors: dict[str, int]) -> None:
    def get_profile(_path: str, query: dict[str, str], _headers: dict[str, str]) -> Answer:
        actor = query.get("actor", "")
        if actor not in actors:
            return Answer(400, {"error": "InvalidRequest", "message": "Profile not found"})
        return Answer(200, {"did": "did:plc:" + "a" * 24, "handle": actor, "followersCount": actors[actor]})

    fake.route("/xrpc/app.bsky.actor.getProfile", get_profile)


# --- YouTube Data API v3: GET /youtube/v3/channels?part=statistics&forHandle=|id=&key= ------------------

YOUTUBE_KEY = "AIzaSyFAKE-key-0123456789abcdefghijkl"


def _google_error(code: int, reason: str, message: str) -> Answer:
    body = {
        "error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "youtube", "reason": reason}],
        }
    }
    return Answer(code, body)


def youtube(fake: FakePlatforms, channels: dict[str, dict[str, Any]]) -> None:
    """Channels by @handle or id: their ``statistics`` (subscriberCount a string, as YouTube sends it)."""

    def list_channels(_path: str, query: dict[str, str], _headers: dict[str, str]) -> Answer:
        if query.get("key") != YOUTUBE_KEY:
            return _google_error(400, "keyInvalid", "API key not valid. Please pass a valid API key.")
        found = channels.get(query.get("forHandle") or query.get("id") or "")
        items = [{"kind": "youtube#channel", "id": "UC" + "x" * 22, "statistics": found}] if found else []
        return Answer(
            200,
            {"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": len(items)}, "items": items},
        )

    fake.route("/youtube/v3/channels", list_channels)


def youtube_quota_exceeded() -> Answer:
    quota = '<a href="/youtube/v3/getting-started#quota">quota</a>'
    message = f"The request cannot be completed because you have exceeded your {quota}."
    return _google_error(403, "quotaExceeded", message)


# --- Graph (Facebook Pages, Instagram users): GET /v{N}/{id}?fields=&access_token= ---------------------

PAGE_TOKEN = "EAAB-fake-page-token-0123456789"


def graph_error(status: int, code: int, message: str, subcode: int | None = None) -> Answer:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Answer(status, {"error": error})


def graph(fake: FakePlatforms, objects: dict[str, dict[str, int]]) -> None:
    """Pages and Instagram users by id, with their counts (``fan_count``, ``followers_count``)."""

    def get_object(path: str, query: dict[str, str], _headers: dict[str, str]) -> Answer:
        if query.get("access_token") != PAGE_TOKEN:
            return graph_error(400, 190, "Error validating access token: Session has expired", 463)
        object_id = path.rsplit("/", 1)[-1]
        if object_id not in objects:
            return graph_error(
                400, 100, f"Unsupported get request. Object with ID '{object_id}' does not exist"
            )
        wanted = query.get("fields", "").split(",")
        return Answer(200, {"id": object_id, **{k: v for k, v in objects[object_id].items() if k in wanted}})

    fake.route("/v21.0/", get_object)


# --- Telegram Bot API: GET /bot{token}/getChatMemberCount?chat_id= -> {"ok": true, "result": N} ---------

BOT_TOKEN = "123456789:AAFakeBotToken_0123456789abcdefghij"


def telegram(fake: FakePlatforms, chats: dict[str, int]) -> None:
    def member_count(path: str, query: dict[str, str], _headers: dict[str, str]) -> Answer:
        if path != f"/bot{BOT_TOKEN}/getChatMemberCount":
            return Answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        chat = query.get("chat_id", "")
        if chat not in chats:
            return Answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
        return Answer(200, {"ok": True, "result": chats[chat]})

    fake.route("/bot", member_count)


# --- Twitch Helix: GET /helix/channels/followers?broadcaster_id= (Client-Id, Bearer) -> {"total": N} -----

TWITCH_CLIENT = "fakeclientid0123456789"
TWITCH_TOKEN = "faketwitchtoken0123456789"


def twitch(fake: FakePlatforms, broadcasters: dict[str, int]) -> None:
    def followers(_path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        if (
            headers.get("client-id") != TWITCH_CLIENT
            or headers.get("authorization") != f"Bearer {TWITCH_TOKEN}"
        ):
            return Answer(401, {"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"})
        total = broadcasters.get(query.get("broadcaster_id", ""))
        if total is None:
            return Answer(400, {"error": "Bad Request", "status": 400, "message": "Invalid broadcaster_id"})
        return Answer(200, {"total": total, "data": [], "pagination": {}})

    fake.route("/helix/channels/followers", followers)


# --- Feedly: GET /v3/feeds/feed%2F{url} -> {"subscribers": N}; 404 {"errorCode", "errorId", "errorMessage"}


def feedly(fake: FakePlatforms, feeds: dict[str, int]) -> None:
    from urllib.parse import unquote

    def feed(path: str, _query: dict[str, str], _headers: dict[str, str]) -> Answer:
        url = unquote(path.removeprefix("/v3/feeds/")).removeprefix("feed/")
        if url not in feeds:
            return Answer(404, {"errorCode": 404, "errorId": "ap3-abc", "errorMessage": "feed not found"})
        return Answer(200, {"id": f"feed/{url}", "title": "The Daily", "subscribers": feeds[url]})

    fake.route("/v3/feeds/", feed)
