"""Hostile input, class by class, sent on purpose to every place of every operation in /api/v1/openapi.json.

Schemathesis (test_api_fuzzing.py) generates requests from the schema, so it seldom builds what the
schema does not describe: bodies nested tens of thousands deep, lone surrogates, integers beyond the
database's range, cursors carrying them. This walk sends each class everywhere it can go:

- each JSON body: nested far too deep; a lone surrogate in every string (keys too, at every depth);
  every integer beyond the database's range;
- each query parameter: huge integers, surrogate escapes (``%ED%A0%80``), NUL, cursors carrying huge
  or deep values;
- each path parameter: ids beyond the range, surrogate escapes;
- the headers the service reads (``Authorization``, ``X-Engagement-Reader``, ``If-None-Match``, ...)
  carrying the bytes of a lone surrogate.

Nothing may answer 5xx, and every 4xx under /api and /badges has the JSON error shape. Each request
starts from a valid one (``VALID_BODIES``, ``QUERY_VALUES``), checked to be accepted, so the one
hostile part is what the service meets.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from engagement import create_app
from engagement.extensions import db
from engagement.models import StaffRole
from engagement.models.mail import OutboxMessage
from engagement.staff.service import create_token
from tests.conftest import TEST_SECRET
from tests.factories import make_site, post, sign_sso
from tests.fakes.akismet import VALID_KEY, akismet_fixture  # noqa: F401 (the "akismet" fixture)


@pytest.fixture
def app(make_app, akismet):
    """Site keys are verified by a fake Akismet on 127.0.0.1: a generated key is answered 422, never a
    503 for an Akismet that cannot be reached."""
    app = make_app(AKISMET_URL=akismet.url)
    with app.app_context():
        yield app


SITE = "hostile"
THREAD = "2025/05/hostile-input"
READER = "reader-0123456789abcdef"
EXPIRES = "2030-01-01T00:00:00Z"
HUGE_INTEGERS = [2**31, 2**63, 10**30, -(2**63) - 1]
# What a server makes of the UTF-8 bytes of a lone surrogate in a header: latin-1 text.
SURROGATE_BYTES_AS_HEADER = "\xed\xa0\x80"


def _load_spec() -> dict[str, Any]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": TEST_SECRET, "TESTING": True})
    return app.test_client().get("/api/v1/openapi.json").get_json()


SPEC = _load_spec()
OPERATIONS = [
    (method.upper(), path, operation)
    for path, operations in SPEC["paths"].items()
    for method, operation in operations.items()
]
# The JSON API and the badges answer errors as JSON; /mail and /privacy links are pages for people.
JSON_PREFIXES = ("/api/", "/badges/")
API_OPERATIONS = [op for op in OPERATIONS if op[1].startswith(JSON_PREFIXES)]
WITH_BODY = [op for op in OPERATIONS if "requestBody" in op[2]]
WITH_QUERY = [op for op in OPERATIONS if any(p["in"] == "query" for p in op[2].get("parameters", []))]
WITH_PATH = [op for op in OPERATIONS if any(p["in"] == "path" for p in op[2].get("parameters", []))]


def _name(operation: tuple[str, str, Any]) -> str:
    return f"{operation[0]} {operation[1]}"


# A complete valid body for every operation that takes one: every documented property present, so a
# hostile value can be put in each (test_every_operation_with_a_body_has_a_complete_valid_body).
SITE_SETTINGS = {
    "name": "Hostile News",
    "origins": ["https://hostile.example"],
    "moderation": "first_time",
    "max_links": 3,
    "max_depth": 4,
    "edit_window_seconds": 600,
    "close_after_days": 30,
    "max_body_length": 5000,
    "flood_seconds": 0,
    "stale_after_hours": 48,
    "max_drop_share": 0.5,
    "report_threshold": 3,
    "disallowed_words": ["spamword"],
    "moderation_words": ["casino"],
    "notify_emails": ["desk@hostile.example"],
    "akismet_key": VALID_KEY,
    "akismet_failure": "allow",
    "akismet_blog_lang": "en",
    "live_interval_seconds": 30,
    "language": "fr",
    "html_nosnippet": True,
    "html_json_ld": True,
    "sso_required": False,
    "sso_skip_first_time": True,
    "sso_login_url": "https://hostile.example/sign-in",
}
SSO_KID = "world-key"
# A literal public address: registering it needs no DNS.
WEBHOOK = {
    "url": "https://93.184.215.14/hooks",
    "events": ["comment.created"],
    "description": "Newsroom CRM",
    "enabled": True,
}
VALID_BODIES: dict[str, dict[str, Any]] = {
    "POST /api/v1/moderation/bans": {
        "kind": "word",
        "site": SITE,
        "value": "viagra",
        "action": "moderate",
        "expires_at": EXPIRES,
        "note": "a spam run",
    },
    "POST /api/v1/moderation/comments/bulk": {"action": "approve", "ids": ["{comment_id}"], "reason": "ok"},
    "PATCH /api/v1/moderation/comments/{comment_id}": {
        "body": "Edited by the desk.",
        "pinned": True,
        "reason": "typo",
        "status": "approved",
    },
    "POST /api/v1/moderation/comments/{comment_id}/ban-author": {
        "action": "moderate",
        "expires_at": EXPIRES,
        "kinds": ["email", "ip"],
        "note": "troll",
        "trash_existing": False,
    },
    "POST /api/v1/moderation/comments/{comment_id}/reports/dismiss": {"reason": "fair comment"},
    "POST /api/v1/moderation/people/erase": {
        "email": "reader1@example.org",
        "sso_id": "reader-1",
        "site": SITE,
        "mode": "anonymize",
    },
    "POST /api/v1/moderation/sites": {**SITE_SETTINGS, "slug": "another"},
    "PATCH /api/v1/moderation/sites/{site}": SITE_SETTINGS,
    "PUT /api/v1/moderation/sites/{site}/engagement/{kind}": {
        "count": 1200,
        "source": "facebook",
        "target": "site",
        "observed_at": "2026-05-07T11:00:00Z",
        "force": True,
    },
    "PATCH /api/v1/moderation/sites/{site}/threads": {"closed": True, "title": "A new title"},
    "POST /api/v1/moderation/tokens": {"label": "night desk", "role": "moderator", "sites": [SITE]},
    "POST /api/v1/sites/{site}/counts": {"thread": [THREAD, "2025/05/another-article"]},
    "POST /api/v1/sites/{site}/comments": {
        "thread": THREAD,
        "thread_url": "https://hostile.example/2025/05/hostile-input",
        "thread_title": "Hostile input",
        "author_name": "Marta",
        "author_email": "marta@example.org",
        "author_url": "https://marta.example",
        "body": "A reply.",
        "parent_id": "{comment_id}",
        "notify_replies": True,
        "hp": "",
        "lang": "pt-BR",
    },
    "PATCH /api/v1/sites/{site}/comments/{comment_id}": {"body": "Edited by its author."},
    "POST /api/v1/moderation/sites/{site}/webhooks": WEBHOOK,
    "PATCH /api/v1/moderation/sites/{site}/webhooks/{endpoint_id}": WEBHOOK,
    "POST /api/v1/moderation/sites/{site}/webhooks/{endpoint_id}/rotate": {"overlap_hours": 24},
    "POST /api/v1/moderation/sites/{site}/webhooks/{endpoint_id}/replay": {
        "delivery_id": None,
        "since": "2026-01-01T00:00:00Z",
    },
    "POST /api/v1/sites/{site}/comments/{comment_id}/reports": {"reason": "abuse", "note": "Personal attack"},
    "POST /api/v1/sites/{site}/privacy": {"email": "reader1@example.org", "request": "export", "lang": "ja"},
    "POST /api/v1/sites/{site}/subscribers": {"email": "new@example.org", "target": "site", "lang": "ar"},
    "POST /api/v1/moderation/sites/{site}/sso/keys": {
        "algorithm": "HS256",
        "public_key": None,
        "kid": "desk-2026",
        "grace_hours": 24,
    },
    "POST /api/v1/sites/{site}/sso/session": {"token": "{sso_token}"},
    "POST /api/v1/moderation/sites/{site}/counter-feeds": {
        "target": "site",
        "kind": "followers",
        "platform": "mastodon",
        "account": "newsroom@mastodon.social",
        "credentials": {},
        "interval_minutes": 180,
        "enabled": True,
    },
    "PATCH /api/v1/moderation/sites/{site}/counter-feeds/{feed_id}": {
        "account": "desk@mastodon.social",
        "credentials": {},
        "interval_minutes": 60,
        "enabled": True,
    },
}
# A valid value for every query parameter, by name.
QUERY_VALUES = {
    "thread": THREAD,
    "key": THREAD,
    "target": "site",
    "email": "reader1@example.org",
    "kind": "fans",
    "days": "7",
    "limit": "10",
    "site": SITE,
    "actor": "admin",
    "comment_id": "{comment_id}",
    "status": None,  # each operation has its own statuses; the default is valid
    "sort": None,
    "cursor": None,
    "q": "comment",
    "style": "flat",
    "label": "likes",
    "color": "blue",
    "lang": "pt-BR",
    "url": "https://hostile.example/2025/05/hostile-input",
    "title": "Hostile input",
    "sso_id": "reader-1",
}
# Not a validation failure: the valid request of these is refused for what it asks, after validation.
ACCEPTED_REFUSALS = {
    "POST /api/v1/moderation/outbox/{message_id}/retry": 409,  # the message is queued, not failed
    "GET /api/v1/moderation/sites/{site}/exports/{job_id}/file": 409,  # no worker has written it yet
}


@dataclass
class World:
    """A site with a thread, a ban, an outbox message and a second token; what path values name."""

    comment_id: int
    edit_token: str
    ban_id: int
    message_id: int
    token_id: int
    staff: str
    endpoint_id: int
    sso_token: str  # a token the site signed for a reader (valid once)
    sso_session: str  # a signed-in reader's session
    feed_id: int
    job_id: str  # a queued export

    def fill(self, template: str, **override: str) -> str:
        values = {
            "site": SITE,
            "comment_id": str(self.comment_id),
            "ban_id": str(self.ban_id),
            "message_id": str(self.message_id),
            "token_id": str(self.token_id),
            "endpoint_id": str(self.endpoint_id),
            "kid": SSO_KID,
            "feed_id": str(self.feed_id),
            "job_id": self.job_id,
            "kind": "fans",
            "digest": "0" * 16,
            "token": "not-a-token",
            **override,
        }
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template

    def headers(self, path: str) -> dict[str, str]:
        # A comment's author edits it with the token from posting it; everything else here is staff.
        own_comment = path.startswith("/api/v1/sites/{site}/comments/{comment_id}")
        headers = {
            "Authorization": f"Bearer {self.edit_token if own_comment else self.staff}",
            "X-Engagement-Reader": READER,
        }
        if path.startswith("/api/v1/sites/{site}/privacy/me"):  # a signed-in reader's own data
            headers["X-Engagement-Session"] = self.sso_session
        return headers


@pytest.fixture
def world(app, client: FlaskClient) -> World:
    make_site(SITE, origins=["https://hostile.example"])
    article = {"thread": THREAD, "thread_url": "https://hostile.example/2025/05/hostile-input"}
    posted = post(client, site=SITE, **article).json
    for _ in range(2):
        post(client, site=SITE, **article)
    _, staff = create_token(role=StaffRole.ADMIN, site_slugs=[], label="hostile")
    other, _ = create_token(role=StaffRole.MODERATOR, site_slugs=[SITE], label="other")
    admin = {"Authorization": f"Bearer {staff}"}
    ban = {"kind": "word", "site": SITE, "value": "x"}
    ban_id = client.post("/api/v1/moderation/bans", json=ban, headers=admin).json["id"]
    client.post(f"/api/v1/sites/{SITE}/subscribers", json={"email": "sub@example.org"})
    endpoint = client.post(f"/api/v1/moderation/sites/{SITE}/webhooks", json=WEBHOOK, headers=admin)
    key = client.post(f"/api/v1/moderation/sites/{SITE}/sso/keys", json={"kid": SSO_KID}, headers=admin)
    feed = {
        "target": "site",
        "kind": "followers",
        "platform": "mastodon",
        "account": "newsroom@mastodon.social",
    }
    feed_id = client.post(f"/api/v1/moderation/sites/{SITE}/counter-feeds", json=feed, headers=admin).json[
        "id"
    ]
    return World(
        comment_id=posted["comment"]["id"],
        edit_token=posted["edit_token"],
        ban_id=ban_id,
        message_id=db.session.scalars(select(OutboxMessage.id)).first(),
        token_id=other.id,
        staff=staff,
        endpoint_id=endpoint.json["endpoint"]["id"],
        sso_token=sign_sso(key.json["secret"], aud=SITE, kid=SSO_KID),
        feed_id=feed_id,
        job_id=client.post(f"/api/v1/moderation/sites/{SITE}/exports", headers=admin).json["id"],
        sso_session=client.post(
            f"/api/v1/sites/{SITE}/sso/session",
            json={"token": sign_sso(key.json["secret"], aud=SITE, kid=SSO_KID)},
        ).json["session"],
    )


def _valid_body(operation: str, world: World) -> dict[str, Any]:
    text = json.dumps(VALID_BODIES[operation])
    text = text.replace('"{comment_id}"', str(world.comment_id)).replace("{sso_token}", world.sso_token)
    return json.loads(text)


def _valid_query(operation: Any, world: World, *, leave_out: str | None = None) -> dict[str, str]:
    query = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query" or parameter["name"] == leave_out:
            continue
        value = QUERY_VALUES[parameter["name"]]
        wanted = parameter.get("required") or parameter["name"] in ("thread", "target", "email")
        if value is not None and wanted:
            query[parameter["name"]] = world.fill(value)
    return query


def _query_string(query: dict[str, str], raw: str = "") -> str:
    """``raw`` goes in as is, percent escapes and all: the bytes an attacker sends."""
    return "&".join(filter(None, [urlencode(query), raw]))


def _problem(label: str, path: str, response: Any) -> str | None:
    """What is wrong with an answer to hostile input: a 5xx, or a 4xx not in the JSON error shape."""
    status = response.status_code
    if status >= 500:
        return f"{label}: {status} {response.get_data()[:120]!r}"
    if status >= 400 and path.startswith(JSON_PREFIXES):
        error = (response.get_json(silent=True) or {}).get("error")
        if not (isinstance(error, dict) and isinstance(error.get("code"), str) and error.get("message")):
            return f"{label}: {status} not the JSON error shape {response.get_data()[:120]!r}"
    return None


def _request(
    client: FlaskClient,
    world: World,
    operation: tuple[str, str, Any],
    *,
    path: str | None = None,
    query: str | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    method, template, spec = operation
    if body is None and "requestBody" in spec:
        body = json.dumps(_valid_body(_name(operation), world)).encode()
    response = client.open(
        path or world.fill(template),
        method=method,
        query_string=query if query is not None else _query_string(_valid_query(spec, world)),
        data=body,
        content_type="application/json" if body is not None else None,
        headers=world.headers(template) | (headers or {}),
    )
    response.get_data()  # a streamed body (CSV, an export) runs to its end, as a client would read it
    return response


# -- the valid requests the hostile ones start from ------------------------------------------------------


def test_every_operation_with_a_body_has_a_complete_valid_body():
    components = SPEC["components"]["schemas"]
    incomplete = {}
    for operation in WITH_BODY:
        schema = operation[2]["requestBody"]["content"]["application/json"]["schema"]
        schema = components[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema
        missing = set(schema["properties"]) - set(VALID_BODIES.get(_name(operation), {}))
        if missing:
            incomplete[_name(operation)] = sorted(missing)
    assert incomplete == {}


@pytest.mark.parametrize("operation", API_OPERATIONS, ids=_name)
def test_the_valid_request_of_every_operation_is_accepted(client, world, operation):
    response = _request(client, world, operation)

    expected = ACCEPTED_REFUSALS.get(_name(operation))
    assert response.status_code < 300 or response.status_code == expected, response.get_data()[:300]


# -- bodies --------------------------------------------------------------------------------------------


def _leaves(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every value in a document with its path, containers included."""
    yield at, value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from _leaves(child, (*at, key))


def _replaced(document: Any, at: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(document))
    if not at:
        return value
    parent = copy
    for key in at[:-1]:
        parent = parent[key]
    parent[at[-1]] = value
    return copy


def _hostile_bodies(document: dict[str, Any]) -> Iterator[tuple[str, bytes, int, str | None]]:
    """(label, body, expected status, top-level field the error must name). The expected status is None
    for a number: one that fits the column (counts are 64-bit) may be accepted, or refused with 422."""
    yield "'[' x 60,000", b"[" * 60_000, 400, None
    yield "'{\"a\":' x 10,000", b'{"a":' * 10_000, 400, None
    first = next(iter(document))
    yield (
        f"{first} nested 500 deep",
        json.dumps(_replaced(document, (first,), _deep(500))).encode(),
        400,
        None,
    )
    for at, value in _leaves(document):
        field = at[0] if at else None
        if isinstance(value, str):
            for surrogate in ("\ud800", f"{value}\udfff", "\udbff\ud800"):
                spoiled = _replaced(document, at, surrogate)
                yield f"{at} = {surrogate!r} escaped", json.dumps(spoiled).encode(), 422, field
                raw = json.dumps(spoiled, ensure_ascii=False).encode("utf-8", "surrogatepass")
                yield f"{at} = {surrogate!r} as UTF-8 bytes", raw, 422, field
        elif isinstance(value, int | float) and not isinstance(value, bool):
            for huge in [*HUGE_INTEGERS, 1e308]:
                yield f"{at} = {huge}", json.dumps(_replaced(document, at, huge)).encode(), None, field
        elif isinstance(value, dict):
            spoiled = _replaced(document, at, {**value, "\ud800": "x"})
            yield f"{at} gets key '\\ud800'", json.dumps(spoiled).encode(), 422, field or "\\ud800"


def _deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("operation", WITH_BODY, ids=_name)
def test_hostile_bodies_are_refused_with_a_json_4xx(client, world, operation):
    problems = []
    for label, body, status, field in _hostile_bodies(_valid_body(_name(operation), world)):
        response = _request(client, world, operation, body=body)
        problems.append(_problem(label, operation[1], response))
        error = (response.get_json(silent=True) or {}).get("error", {})
        if status is None and response.status_code < 400:
            continue
        if response.status_code != (status or 422):
            answer = f"{response.status_code} {response.get_data()[:160]!r}"
            problems.append(f"{label}: {answer}, not {status or 'accepted or 422'}")
        elif status == 400 and error.get("code") != "invalid_json":
            problems.append(f"{label}: 400 {error.get('code')}, not invalid_json")
        elif field is not None and field not in error.get("fields", {}):
            problems.append(f"{label}: the error names {list(error.get('fields', {}))}, not {field!r}")
    assert [p for p in problems if p] == []


# -- query strings -------------------------------------------------------------------------------------


def _cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


# Every shape a listing's cursor takes (ids; counts and ids; times and ids; pinned, likes or time, id),
# each carrying values no INTEGER column holds, or times no calendar has.
HUGE = 10**30
HOSTILE_CURSORS = [
    _cursor(2**31),
    _cursor(-(2**63) - 1),
    _cursor(HUGE, HUGE),
    _cursor("2026-05-07T12:00:00+00:00", HUGE),
    _cursor("9999-12-31T23:59:59-12:00", 1),
    _cursor(False, HUGE, HUGE),
    _cursor(False, "2026-05-07T12:00:00+00:00", HUGE),
    _cursor(True, 2**31, 2**31),
    base64.urlsafe_b64encode(b"[" * 140).decode(),
]
# Raw, as an attacker writes them: the escapes of a lone surrogate, of bytes that are not UTF-8, of NUL.
HOSTILE_QUERY_VALUES = [
    *(str(n) for n in HUGE_INTEGERS),
    "1e400",
    "9" * 5000,
    "%ED%A0%80",
    "x%ED%B0%80y",
    "%FF%FE",
    "%00",
    *HOSTILE_CURSORS,
]


@pytest.mark.parametrize("operation", WITH_QUERY, ids=_name)
def test_hostile_query_values_are_refused_with_a_json_4xx(client, world, operation):
    problems = []
    for parameter in (p for p in operation[2]["parameters"] if p["in"] == "query"):
        name = parameter["name"]
        rest = _valid_query(operation[2], world, leave_out=name)
        for value in HOSTILE_QUERY_VALUES:
            response = _request(client, world, operation, query=_query_string(rest, f"{name}={value}"))
            problems.append(_problem(f"{name}={value[:40]}", operation[1], response))
    assert [p for p in problems if p] == []


# -- paths and headers ---------------------------------------------------------------------------------

HOSTILE_PATH_VALUES = [*(str(n) for n in HUGE_INTEGERS if n > 0), "9" * 5000, "%ED%A0%80", "%FF", "%00"]


@pytest.mark.parametrize("operation", WITH_PATH, ids=_name)
def test_hostile_path_values_are_refused_with_a_json_4xx(client, world, operation):
    problems = []
    for parameter in (p for p in operation[2]["parameters"] if p["in"] == "path"):
        for value in HOSTILE_PATH_VALUES:
            path = world.fill(operation[1], **{parameter["name"]: value})
            response = _request(client, world, operation, path=path)
            problems.append(_problem(f"{parameter['name']}={value[:40]}", operation[1], response))
    assert [p for p in problems if p] == []


HOSTILE_HEADERS = [
    {"Authorization": f"Bearer {SURROGATE_BYTES_AS_HEADER}"},
    {"Authorization": SURROGATE_BYTES_AS_HEADER},
    {"Authorization": "Bearer " + "9" * 5000},
    {"X-Engagement-Reader": SURROGATE_BYTES_AS_HEADER * 8},
    {"If-None-Match": f'"{SURROGATE_BYTES_AS_HEADER}", W/"{SURROGATE_BYTES_AS_HEADER}"'},
    {"If-Modified-Since": SURROGATE_BYTES_AS_HEADER},
    {"X-Request-ID": SURROGATE_BYTES_AS_HEADER},
    {"Origin": f"https://{SURROGATE_BYTES_AS_HEADER}.example"},
    {"Accept-Encoding": SURROGATE_BYTES_AS_HEADER},
]


@pytest.mark.parametrize("operation", OPERATIONS, ids=_name)
def test_hostile_header_values_are_refused_with_a_json_4xx(client, world, operation):
    problems = [
        _problem(str(headers), operation[1], _request(client, world, operation, headers=headers))
        for headers in HOSTILE_HEADERS
    ]
    assert [p for p in problems if p] == []
