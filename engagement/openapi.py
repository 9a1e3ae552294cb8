"""The OpenAPI 3 document, built from the routes themselves.

Each API view is declared with ``engagement.api`` (``@doc``, ``@arguments``, ``@response``): the same
declaration validates its requests and shapes its answers, and ``build_spec`` writes it down, so the document
is exactly what is checked. It walks the app's URL map, so a route cannot exist without appearing in the
document (a test checks every /api route has docs).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response, current_app
from marshmallow import Schema, fields

from engagement.api import EDIT_SECURITY, STAFF_SECURITY, Declaration, declaration_of
from engagement.database import MAX_ROW_ID
from engagement.http import FORM_MEDIA_TYPE, conditional

HTML_MEDIA_TYPE = "text/html"


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable machine-readable code"})
    message = fields.String(required=True)
    fields = fields.Dict(metadata={"description": "Per-field messages (validation_failed only)"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
STRING = {"type": "string"}
# Path parameters by converter; ids are bounded like the converter (engagement.database.RowIdConverter).
_PARAM_SCHEMAS = {"int": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID}}
_ERROR_TEXT = {
    400: "Bad request (invalid JSON, missing header)",
    401: "Missing, unknown or revoked bearer token",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    413: "Request body too large",
    415: "Not JSON",
    422: "Validation failed",
    429: "Rate limited (Retry-After)",
    503: "Database unavailable",
}


def build_spec(app: Flask) -> dict[str, Any]:
    spec = APISpec(
        title="engagement",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Comments, moderation and engagement counters for news sites."},
    )
    spec.components.security_scheme(
        STAFF_SECURITY, {"type": "http", "scheme": "bearer", "description": "Staff token from create-token"}
    )
    spec.components.security_scheme(
        EDIT_SECURITY, {"type": "http", "scheme": "bearer", "description": "edit_token from a post"}
    )
    spec.components.schema("Error", schema=ErrorSchema)
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        declaration = declaration_of(view)
        if declaration is None:
            continue
        if not declaration.summary:
            raise ValueError(f"{rule.endpoint} declares no @doc summary")
        path = _CONVERTER.sub(r"{\2}", rule.rule)
        path_params = [
            {"name": name, "in": "path", "required": True, "schema": _PARAM_SCHEMAS.get(converter, STRING)}
            for converter, name in _CONVERTER.findall(rule.rule)
        ]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(declaration, path_params)
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(declaration: Declaration, path_params: list[dict[str, Any]]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": declaration.summary,
        "tags": declaration.tags,
        "parameters": list(path_params),
    }
    statuses = set(declaration.errors) | {429, 503}
    for argument in declaration.arguments:
        if argument.location == "query":
            operation["parameters"].append({"in": "query", "schema": argument.schema})
            statuses |= {422}
        else:
            media_types = ["application/json"]
            if argument.location == "json_or_form":
                media_types.append(FORM_MEDIA_TYPE)
            operation["requestBody"] = {
                "required": True,
                "content": {media_type: {"schema": argument.schema} for media_type in media_types},
            }
            statuses |= {400, 413, 415, 422}
    for name, description in declaration.headers.items():
        operation["parameters"].append(
            {"in": "header", "name": name, "description": description, "schema": {"type": "string"}}
        )
    responses: dict[str, Any] = {}
    for status, answer in sorted((declaration.responses or {200: None}).items()):
        content = answer.content if answer is not None else None
        description = answer.description if answer is not None else None
        entry: dict[str, Any] = {"description": description or ("OK" if status < 300 else str(status))}
        if isinstance(content, str):
            entry["content"] = {content: {"schema": {"type": "string"}}}
        elif content is not None:
            entry["content"] = {"application/json": {"schema": content}}
        responses[str(status)] = entry
    if declaration.security == STAFF_SECURITY:
        statuses |= {401, 403}
    error_content: dict[str, Any] = {"application/json": {"schema": "Error"}}
    if any(argument.location == "json_or_form" for argument in declaration.arguments):
        # A plain HTML form (no JavaScript) is answered a page: the form again, with the error.
        error_content[HTML_MEDIA_TYPE] = {"schema": {"type": "string"}}
    for status in sorted(statuses - set(declaration.responses)):
        responses[str(status)] = {"description": _ERROR_TEXT.get(status, "Error"), "content": error_content}
    operation["responses"] = responses
    if declaration.security:
        operation["security"] = [{declaration.security: []}]
    return operation


bp = Blueprint("openapi", __name__)


@dataclass(frozen=True)
class _Document:
    body: bytes
    etag: str


@bp.get("/api/v1/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI document (built once per process; routes do not change at run time)."""
    document = current_app.extensions.get("engagement.openapi")
    if document is None:
        body = current_app.json.response(build_spec(current_app)).get_data()
        document = _Document(body=body, etag=hashlib.sha256(body).hexdigest()[:32])
        current_app.extensions["engagement.openapi"] = document
    # It changes with a release only: caches may keep it a while, and revalidate by its ETag after.
    return conditional(
        document.etag, document.body, mimetype="application/json", cache_control="public, max-age=300"
    )
