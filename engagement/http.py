"""Request parsing at the edge: JSON bodies and query strings through marshmallow schemas."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from marshmallow import Schema, fields

from engagement.errors import BadRequest, UnsupportedMediaType, ValidationFailed

T = TypeVar("T")


def json_body() -> Any:
    """The request's JSON document; 415 for another media type, 400 ``invalid_json`` when unparsable."""
    if not request.is_json:
        raise UnsupportedMediaType("unsupported_media_type", "Send the request body as application/json.")
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("invalid_json", f"The request body is not valid JSON: {exc}") from None


def _has_nul(*values: Any) -> bool:
    for value in values:
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict) and _has_nul(*value.keys(), *value.values()):
            return True
        if isinstance(value, list) and _has_nul(*value):
            return True
    return False


def _refuse_nul_characters(document: dict[str, Any]) -> None:
    """NUL cannot be stored in PostgreSQL text and is never meant; refuse it for every field at once."""
    bad = {
        name: ["Text cannot contain NUL characters."]
        for name, value in document.items()
        if _has_nul(name, value)
    }
    if bad:
        raise ValidationFailed(bad)


def load_body(schema: Schema) -> Any:
    """Validate the JSON body; a body that is not an object is a validation error, not a crash."""
    document = json_body()
    if not isinstance(document, dict):
        raise BadRequest("invalid_json", "The request body must be a JSON object.")
    _refuse_nul_characters(document)
    return schema.load(document)


def load_query(schema: Schema) -> Any:
    """Validate the query string; repeated parameters arrive as lists only where the schema wants a list."""
    document: dict[str, Any] = {}
    for name, values in request.args.lists():
        field = schema.fields.get(name)
        document[name] = values if isinstance(field, fields.List) else values[-1]
    _refuse_nul_characters(document)
    return schema.load(document)


def per_request(key: str, load: Callable[[], T]) -> T:
    """``load()`` once per request. (Flask's ``g`` lives as long as the app context, which a test
    or a CLI command may share between several requests.)"""
    cache = request.environ.setdefault("engagement.per_request", {})
    if key not in cache:
        cache[key] = load()
    return cache[key]
