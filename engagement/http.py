"""HTTP at the edge: JSON bodies and query strings through marshmallow schemas (what ``engagement.api``'s
``@arguments`` loads with), and the one way an answer that clients revalidate is built (``conditional``)."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from flask import Flask, Request, Response, request
from flask.sessions import SessionInterface, SessionMixin
from marshmallow import Schema, fields

from engagement.caching import BoundedMap
from engagement.errors import BadRequest, UnsupportedMediaType, ValidationFailed

T = TypeVar("T")


class NoCookieSessions(SessionInterface):
    """The service keeps no cookie sessions (readers are anonymous, staff send bearer tokens), so no
    request pays for opening one: Flask's default builds a signing serializer on every request."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


class Service(Flask):
    """Flask, with its automatic answer to ``OPTIONS`` (a CORS preflight, mostly) a 204 with no media type:
    Flask's is an empty 200 of its default ``text/html``, which the page hook gave an HTML page's policy
    headers (about 450 bytes) on a reader's first write."""

    def make_default_options_response(self) -> Response:
        response = super().make_default_options_response()
        response.status_code = 204
        del response.headers["Content-Type"]
        return response


# Deeper than any document the API takes (its bodies nest two or three levels); anything deeper is not
# meant, and code that walks a document (ours, marshmallow's) must not meet the recursion limit.
MAX_JSON_DEPTH = 32
_NOT_UNICODE = re.compile("[\ud800-\udfff]")


def _too_deep() -> BadRequest:
    return BadRequest("invalid_json", f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")


def json_body() -> Any:
    """The request's JSON document; 415 for another media type, 400 ``invalid_json`` when unparsable
    (nested past the parser's own limit included: ``load_body`` holds documents to ``MAX_JSON_DEPTH``)."""
    if not request.is_json:
        raise UnsupportedMediaType("unsupported_media_type", "Send the request body as application/json.")
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw or b"null")
    except RecursionError:
        # The parser recurses once per level; past the interpreter's limit it gives up (a 500 before).
        raise _too_deep() from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("invalid_json", f"The request body is not valid JSON: {exc}") from None


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        # PostgreSQL text cannot hold NUL, and no reader means one.
        return "Text cannot contain NUL characters."
    if not text.isascii() and _NOT_UNICODE.search(text):
        # JSON's \ud800 escapes (and the parser's surrogatepass) let a lone surrogate through; it is not
        # Unicode, so no driver, hash or response can encode it.
        return "Text cannot contain unpaired surrogates (\\ud800-\\udfff); send valid Unicode."
    return None


def _screen_document(document: dict[str, Any]) -> None:
    """What no field may hold, checked once for every key and string at any depth: nesting deeper than
    ``MAX_JSON_DEPTH`` is 400 ``invalid_json``; NUL or a lone surrogate is 422 naming the top-level field.

    A loop over an explicit stack, not recursion: the parser accepts documents nested almost as deep
    as the interpreter's recursion limit, and checking one must not reach it."""
    bad: dict[str, list[str]] = {}
    for name, value in document.items():
        problem = _text_problem(name)
        pending: list[tuple[Any, int]] = [(value, 2)]
        while pending and problem is None:
            item, depth = pending.pop()
            if isinstance(item, str):
                problem = _text_problem(item)
            elif isinstance(item, dict | list):
                if depth > MAX_JSON_DEPTH:
                    raise _too_deep()
                if isinstance(item, dict):
                    pending.extend((key, depth) for key in item)
                    item = item.values()
                pending.extend((child, depth + 1) for child in item)
        if problem is not None:
            # The name goes back in the error: a lone surrogate in it is spelled out, not sent.
            bad[name.encode("utf-8", "backslashreplace").decode()] = [problem]
    if bad:
        raise ValidationFailed(bad)


@cache
def shared_schema(schema_class: type[Schema]) -> Schema:
    # One instance per class: building a schema deep-copies its fields, a cost no request should pay.
    # Loading keeps no state on the instance, so requests (and threads) can share it.
    return schema_class()


def load_body(schema_class: type[Schema]) -> Any:
    """Validate the JSON body; a body that is not an object is a validation error, not a crash."""
    document = json_body()
    if not isinstance(document, dict):
        raise BadRequest("invalid_json", "The request body must be a JSON object.")
    _screen_document(document)
    return shared_schema(schema_class).load(document)


FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
_DIGITS = re.compile(r"[0-9]{1,19}\Z")


def is_form_post() -> bool:
    """Whether the request is a plain HTML form's POST (a page without JavaScript)."""
    return request.method == "POST" and request.mimetype == FORM_MEDIA_TYPE


def load_body_or_form(schema_class: type[Schema]) -> Any:
    """``load_body``, or the same schema over an HTML form's fields (``is_form_post``): one value per
    name (the last), a digit string given to an integer field as the number, and an empty optional field
    left out, as a JSON client leaves it out. What the schema refuses is refused the same way."""
    if not is_form_post():
        return load_body(schema_class)
    schema = shared_schema(schema_class)
    document: dict[str, Any] = {}
    for name, values in request.form.lists():
        value = values[-1]
        field = schema.fields.get(name)
        if field is not None and not field.required and value == "":
            continue
        if isinstance(field, fields.Integer) and _DIGITS.match(value):
            document[name] = int(value)
        else:
            document[name] = value
    _screen_document(document)
    return schema.load(document)


# Query strings are as long as a client makes them (a counts request names 100 thread keys): bytes too.
_query_memo: BoundedMap[tuple[type[Schema], bytes], dict[str, Any]] = BoundedMap(
    max_entries=2048, max_bytes=4 * 2**20
)


def load_query(schema_class: type[Schema]) -> Any:
    """Validate the query string; repeated parameters arrive as lists only where the schema wants a list.

    Validation is a pure function of the schema and the query string, and the readers of one article
    all send the same one, so valid results are remembered (bounded, oldest out). Callers get a copy."""
    memo_key = (schema_class, request.query_string)
    found = _query_memo.get(memo_key)
    if found is None:
        found = _validate_query(shared_schema(schema_class))
        _query_memo.put(memo_key, found)
    return {name: list(value) if isinstance(value, list) else value for name, value in found.items()}


def _validate_query(schema: Schema) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name, values in request.args.lists():
        field = schema.fields.get(name)
        document[name] = values if isinstance(field, fields.List) else values[-1]
    _screen_document(document)
    return schema.load(document)


def per_request(key: str, load: Callable[[], T]) -> T:
    """``load()`` once per request. (Flask's ``g`` lives as long as the app context, which a test
    or a CLI command may share between several requests.)"""
    cache = request.environ.setdefault("engagement.per_request", {})
    if key not in cache:
        cache[key] = load()
    return cache[key]


def client_has(etag: str) -> bool:
    """Whether the request's If-None-Match names ``etag`` (unquoted) or ``*``: the weak comparison
    RFC 9110 asks of a GET, so a CDN that weakened the tag still gets its 304."""
    # Most requests send none: a look in the environ, before werkzeug parses the header.
    return "HTTP_IF_NONE_MATCH" in request.environ and request.if_none_match.contains_weak(etag)


def content_etag(body: bytes) -> str:
    """A strong ETag of an answer's bytes: the same on every host for the same answer."""
    return hashlib.blake2b(body, digest_size=12).hexdigest()


# Answers shorter than this go as they are: gzip would save less than a packet.
GZIP_MIN_BYTES = 1400
GZIP_SUFFIX = "-gz"


def gzipped(body: bytes) -> bytes | None:
    """``body`` gzipped for ``conditional`` (level 6, no timestamp: the same bytes on every call), or
    None when it is too short to be worth it. Callers that cache an answer cache this beside it, so a
    reader's browser gets a thread page at a fifth of its size for no CPU per request."""
    return gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_BYTES else None


def conditional(
    etag: str,
    body: bytes | str | None,
    *,
    mimetype: str,
    cache_control: str,
    compressed: bytes | None = None,
) -> Response:
    """Every answer that clients and shared caches revalidate: 304 when the client has ``etag`` (or
    ``body`` is None: the caller found so before building it), else 200 with ``body``; both carry the
    ETag and ``cache_control``.

    ``compressed``: ``body`` gzipped (``gzipped``), sent to a client that accepts gzip, with its own
    ETag (``etag`` + ``-gz``: another representation, RFC 9110 8.8.3) and ``Vary: Accept-Encoding``; a
    client holding either representation gets its 304."""
    wants_gzip = compressed is not None and request.accept_encodings["gzip"] > 0
    tag = etag + GZIP_SUFFIX if wants_gzip else etag
    current = client_has(etag) or (compressed is not None and client_has(etag + GZIP_SUFFIX))
    modified = body is not None and not current
    # A 304 is of the same representation: with its media type, the after-request hooks treat it as they
    # treat the 200 (a JSON answer's 304 is not given an HTML page's policy headers); werkzeug leaves the
    # Content-Type header itself off a 304.
    body_sent = compressed if wants_gzip else body
    response = Response(body_sent if modified else None, status=200 if modified else 304, mimetype=mimetype)
    response.headers["ETag"] = f'"{tag}"'  # set_etag's quoting without its check: ours hold no quote
    response.headers["Cache-Control"] = cache_control
    if compressed is not None:
        response.headers["Vary"] = "Accept-Encoding"
        if wants_gzip and modified:
            response.headers["Content-Encoding"] = "gzip"
    return response
