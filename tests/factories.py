"""Test data through the service layer, so tests exercise the same rules as production."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import jwt

from engagement import clock
from engagement.models import Site
from engagement.sites.service import create_site

_sequence = itertools.count(1)


def make_site(slug: str = "news", *, origins: list[str] | None = None, **settings: Any) -> Site:
    """A site; moderation defaults to ``none`` and flood control off so tests opt into each rule."""
    settings = {"moderation": "none", "flood_seconds": 0, **settings}
    return create_site(slug=slug, name=slug.title(), origins=origins or [], settings=settings)


def comment_payload(**overrides: Any) -> dict[str, Any]:
    """A valid POST /comments body; every author is distinct unless a test says otherwise."""
    n = next(_sequence)
    return {
        "thread": "2025/05/xi-putin-moscow",
        "thread_url": "https://news.example/2025/05/xi-putin-moscow",
        "thread_title": "Xi Jinping to Join Putin in Moscow",
        "author_name": f"Reader {n}",
        "author_email": f"reader{n}@example.org",
        "body": f"Comment number {n}.",
        **overrides,
    }


def post(
    client: Any,
    site: str = "news",
    ip: str = "203.0.113.7",
    headers: dict[str, str] | None = None,
    **overrides: Any,
) -> Any:
    """POST a comment from a given client IP; returns the response."""
    return client.post(
        f"/api/v1/sites/{site}/comments",
        json=comment_payload(**overrides),
        environ_base={"REMOTE_ADDR": ip},
        headers=headers,
    )


def sign_sso(
    key: Any, *, aud: str | None, kid: str | None = None, algorithm: str = "HS256", **claims: Any
) -> str:
    """A token a site's backend signs for its signed-in reader: valid for five minutes of the app clock,
    with a fresh ``jti``, for user ``reader-1`` unless ``claims`` say otherwise (None leaves a claim out)."""
    issued = int(clock.now().timestamp())
    payload = {"aud": aud, "sub": "reader-1", "iat": issued, "exp": issued + 300, "jti": uuid.uuid4().hex}
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload, key, algorithm=algorithm, headers=headers)
