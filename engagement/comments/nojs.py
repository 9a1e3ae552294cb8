"""Posting without JavaScript: the server-rendered thread's form posts to ``POST .../comments`` as a
plain HTML form, through the same declaration, schema and rules as the widget's JSON (honeypot, flood,
links, bans, Akismet, rate limits), and is answered as a browser expects:

- accepted: ``303 See Other`` back to ``{thread url}#comment-{id}``, or ``#comment-pending`` for a held
  comment (the fragment shows its notice there), when the thread's URL is on the page's own origin;
- refused: a small page in the reader's language with the message, the form refilled and each field's
  error next to it, and a link back to the article.

Only pages of the site's allowed origins may post this way: the browser's ``Origin`` (else the
``Referer``'s origin) must be one of them, and is required, since a form post is a request any other page
could make in the reader's name. Redirects only ever go to the origin the form was posted from.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Response, redirect, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException

from engagement.comments.fragments import same_origin
from engagement.comments.service import PostedComment
from engagement.errors import Forbidden, Refusal
from engagement.fragments import render_fragment
from engagement.i18n import Translator, negotiate, translator
from engagement.models import SiteRef

FORM_FIELDS = ("body", "author_name", "author_email", "author_url")
THREAD_FIELDS = ("thread", "thread_url", "thread_title")
# The API's codes a reader can act on, as the widget words them (api.js describeError).
REFUSAL_MESSAGES = {
    "validation_failed": "fixErrors",
    "thread_closed": "closed",
    "comment_flood": "tooFast",
    "rate_limited": "tooFast",
    "duplicate_comment": "duplicate",
    "sso_required": "signInToComment",
}
# The reader's fields' messages (engagement/fields.py), as the widget's own checks word them (form.js),
# so the page is in one language; a message not listed stays as the API wrote it.
_FIELD_MESSAGES = (
    (
        re.compile(r"Missing data for required field\.|Please enter your (name|email address|comment)\."),
        "required",
    ),
    (re.compile(r"Please enter a valid email address\."), "badEmail"),
    (re.compile(r"Please enter a web address"), "badUrl"),
    (re.compile(r"cannot contain HTML tags"), "noMarkup"),
    (re.compile(r"at most (?P<n>\d+) characters"), "tooLong"),
)


def page_origin(site: SiteRef) -> str:
    """The origin of the page the form was on; 403 ``origin_not_allowed`` unless the site allows it."""
    origin = request.headers.get("Origin") or _origin_of(request.referrer)
    if not origin or origin == "null" or not site.allows_origin(origin):
        raise Forbidden("origin_not_allowed", "Post this form from a page of the site.")
    return origin


def answer_posted(posted: PostedComment, *, thread_url: str | None, origin: str) -> Response:
    """303 back to the comment (or to the held notice) on the article, or a page saying where it went."""
    anchor = "comment-pending" if posted.status != "approved" else f"comment-{posted.public['id']}"
    back = _back_to(thread_url, origin)
    if back:
        return redirect(f"{back}#{anchor}", 303)
    words = translator(_language())
    message = words.t("pending") if posted.status != "approved" else words.t("posted")
    return _page(200, message=message, back=None, errors={}, keep_values=False)


def answer_refused(refusal: Refusal) -> Response:
    """The refusal as a page with the reader's form refilled, in the language the form was in."""
    words = translator(_language())
    errors = {
        name: [_in_words(text, words) for text in _texts(messages)]
        for name, messages in (refusal.fields or {}).items()
        if name in FORM_FIELDS
    }
    origin = request.headers.get("Origin") or _origin_of(request.referrer)
    back = _back_to(_form().get("thread_url"), origin) if origin else None
    if refusal.code in ("origin_not_allowed", "sso_required"):
        # Posted from elsewhere: nothing of what was sent is shown back, no way back is offered. A guest
        # on a site that wants readers signed in: the form is no use to them, the way back to sign in is.
        signing_in = refusal.code == "sso_required"
        message = words.t("signInToComment") if signing_in else refusal.message
        response = _page(
            refusal.status, message=message, back=back if signing_in else None, errors={}, keep_values=False
        )
    else:
        message = words.t(REFUSAL_MESSAGES.get(refusal.code, "failed"))
        response = _page(refusal.status, message=message, back=back, errors=errors, keep_values=True)
    for name, value in (refusal.headers or {}).items():
        response.headers[name] = value
    return response


def _page(
    status: int, *, message: str, back: str | None, errors: dict[str, Any], keep_values: bool
) -> Response:
    language = _language()
    form = _form()
    values = {name: form.get(name, "") for name in FORM_FIELDS} if keep_values else {}
    if keep_values and form.get("notify_replies"):
        values["notify_replies"] = True
    hidden = {name: form.get(name, "") for name in THREAD_FIELDS} | {"lang": language}
    body = render_fragment(
        "form_page.html",
        language=language,
        message=message,
        back=back,
        errors=errors,
        values=values,
        hidden=hidden,
        action=request.url,
        show_form=keep_values,
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _in_words(text: str, words: Translator) -> str:
    for pattern, key in _FIELD_MESSAGES:
        found = pattern.search(text)
        if found:
            return words.t(key, n=int(found.group("n"))) if "n" in pattern.groupindex else words.t(key)
    return text


def _language() -> str:
    return negotiate(_form().get("lang"))


def _form() -> MultiDict[str, str]:
    """The posted form, or nothing when it cannot be read: a refusal of the body itself (too large, cut
    short, too many parts) is answered in the default language with an empty form, where reading it again
    would raise that refusal inside its own answer (a 500)."""
    try:
        return request.form
    except HTTPException:
        return _NO_FORM


_NO_FORM: ImmutableMultiDict[str, str] = ImmutableMultiDict()


def _texts(messages: Any) -> list[str]:
    if isinstance(messages, dict):  # a nested field's errors: only its texts matter here
        return [text for value in messages.values() for text in _texts(value)]
    return [str(text) for text in (messages if isinstance(messages, list) else [messages])]


def _back_to(url: str | None, origin: str) -> str | None:
    """The thread's URL without its fragment, if it is on the origin the form was posted from."""
    url = (url or "").split("#")[0]
    return url if same_origin(url, origin) else None


def _origin_of(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None
