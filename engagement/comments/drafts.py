"""What a reader sends to post a comment, as one value: built by PostCommentSchema from a validated body
(or by the demo and the importers' callers), handed whole to ``service.post_comment``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NewComment:
    """A reader's comment or reply, validated, before the site's rules judge it."""

    thread_key: str
    author_name: str
    author_email: str  # lower-cased by the form's field
    body: str
    thread_url: str | None = None
    thread_title: str = ""
    parent_id: int | None = None
    author_url: str | None = None
    honeypot: str = ""
    notify_replies: bool = False  # mail me replies in this thread (after confirming the address)
    language: str | None = None  # the reader's language, one engagement.i18n speaks; None: the site's
    sso_id: str | None = None  # a signed-in reader's user id on the site (their session's, never the form's)


REFERRER_LENGTH = 1000


@dataclass(frozen=True)
class Client:
    """Where a request came from, as the rules see it: the client's IP (never stored in clear), user
    agent, and the page it came from (``Referer``: for Akismet, which weighs it)."""

    ip: str | None
    user_agent: str = ""
    referrer: str = ""
