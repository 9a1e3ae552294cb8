"""A thread as HTML in the article's own page, and the answers a form without JavaScript gets.

The fragment is drawn from the very page the widget reads (``reading.read_page``, cached per thread
version), so the two cannot disagree; ``engagement.fragments`` styles, caches and answers it. The widget
adopts it: every value it needs to take over (ids, counts, cursors, the page's ETag) is in data-
attributes, so it draws the same thread in its shadow root without asking for the first page again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from engagement.comments import reading
from engagement.comments.avatars import inline_identicon
from engagement.fragments import fragment_etag, json_ld, render_fragment
from engagement.models import SiteRef

FIRST_PAGE_SORT = "oldest"


@dataclass(frozen=True)
class ThreadFragment:
    etag: str
    render: Any  # () -> str


def thread_fragment(
    *,
    site: SiteRef,
    thread_key: str,
    language: str,
    url: str | None,
    title: str,
    limit: int,
    action: str,
    api_origin: str,
) -> ThreadFragment:
    """The first page of a thread as a fragment with its comment form; its ETag follows the page's."""
    page = reading.read_page(site=site, thread_key=thread_key, sort=FIRST_PAGE_SORT, limit=limit, cursor=None)
    settings = site.settings
    options = (settings.html_nosnippet, settings.html_json_ld, api_origin)
    etag = fragment_etag(
        "thread", site.id, site.slug, thread_key, page.etag, language, url, title, limit, options
    )

    def render() -> str:
        data = json.loads(page.body or b"{}")
        thread = data["thread"]
        thread_url = url or thread.get("url") or None
        return render_fragment(
            "thread.html",
            language=language,
            site=site.slug,
            thread_key=thread_key,
            thread_url=thread_url,
            thread_title=title or thread.get("title") or "",
            count=thread["comment_count"],
            closed=thread["closed"],
            comments=[_with_counts(comment) for comment in data["comments"]],
            next_cursor=data["next_cursor"],
            page_etag=page.etag,
            public_settings=data["settings"],
            settings_json=json.dumps(data["settings"], separators=(",", ":")),
            max_depth=data["settings"]["max_depth"],
            nosnippet=settings.html_nosnippet,
            structured=json_ld(_structured(data, thread_url)) if settings.html_json_ld else None,
            action=action,
            api_origin=api_origin,
            avatar_svg=inline_identicon,
        )

    return ThreadFragment(etag=etag, render=render)


def count_fragment(*, site: SiteRef, thread_key: str, language: str, url: str | None, count: int) -> str:
    return render_fragment(
        "count.html", language=language, site=site.slug, thread_key=thread_key, url=url, count=count
    )


def _with_counts(comment: dict[str, Any]) -> dict[str, Any]:
    """A top-level comment with ``left``: its replies this page leaves out (the "Show N more" button)."""

    def shown(replies: list[dict[str, Any]]) -> int:
        return sum(1 + shown(reply.get("replies") or []) for reply in replies)

    return {**comment, "left": max(comment.get("reply_count", 0) - shown(comment.get("replies") or []), 1)}


def _structured(page: dict[str, Any], thread_url: str | None) -> dict[str, Any]:
    """schema.org's view of the thread: the page's comments, replies nested, as ``Comment`` items."""

    def item(comment: dict[str, Any]) -> dict[str, Any]:
        author = comment.get("author") or {}
        entry: dict[str, Any] = {
            "@type": "Comment",
            # The sanitizer's own HTML (written at post time), read as text: tags dropped, entities decoded.
            "text": Markup(comment.get("html", "")).striptags(),  # noqa: S704
            "datePublished": comment["created_at"],
            "upvoteCount": comment.get("likes", 0),
            "author": {"@type": "Person", "name": author.get("name", "")},
        }
        if thread_url:
            entry["url"] = f"{thread_url.split('#')[0]}#comment-{comment['id']}"
        if author.get("url"):
            entry["author"]["url"] = author["url"]
        replies = [item(reply) for reply in comment.get("replies") or [] if reply.get("status") == "approved"]
        if replies:
            entry["comment"] = replies
        return entry

    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "CreativeWork",
        "commentCount": page["thread"]["comment_count"],
        "comment": [item(c) for c in page["comments"] if c.get("status") == "approved"],
    }
    if thread_url:
        document["url"] = thread_url
    return document


def same_origin(url: str | None, origin: str | None) -> bool:
    """Whether ``url`` is an http(s) address on ``origin`` (scheme://host[:port])."""
    if not url or not origin:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}".lower() == origin.lower()
