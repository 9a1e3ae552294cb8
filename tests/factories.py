"""Test data through the service layer, so tests exercise the same rules as production."""

from __future__ import annotations

import itertools
from typing import Any

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
