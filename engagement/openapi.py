"""The OpenAPI 3 document, built from the routes themselves.

Each API view is decorated with ``@documented(...)`` naming its schemas; ``build_spec`` walks the app's URL
map, so a route cannot exist without appearing in the document (a test checks every /api route has docs).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from marshmallow import Schema, fields

from engagement.database import MAX_ROW_ID

F = TypeVar("F", bound=Callable[..., Any])

STAFF_SECURITY = "staffToken"
EDIT_SECURITY = "editToken"


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable machine-readable code"})
    message = fields.String(required=True)
    fields = fields.Dict(metadata={"description": "Per-field messages (validation_failed only)"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


@dataclass
class RouteDoc:
    summary: str
    tags: list[str]
    query: type[Schema] | Schema | None = None
    body: type[Schema] | Schema | None = None
    responses: dict[int, Any] = field(default_factory=dict)
    security: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    errors: tuple[int, ...] = ()


def documented(
    summary: str,
    *,
    tags: list[str],
    query: type[Schema] | Schema | None = None,
    body: type[Schema] | Schema | None = None,
    responses: dict[int, Any] | None = None,
    security: str | None = None,
    headers: dict[str, str] | None = None,
    errors: tuple[int, ...] = (),
) -> Callable[[F], F]:
    """Attach OpenAPI metadata to a view. ``responses`` maps status to a Schema, a media type string
    (``"image/svg+xml"``) or None (no body). ``errors`` lists the error statuses worth documenting."""

    def attach(view: F) -> F:
        view.__openapi__ = RouteDoc(  # type: ignore[attr-defined]
            summary=summary,
            tags=tags,
            query=query,
            body=body,
            responses=responses or {200: None},
            security=security,
            headers=headers or {},
            errors=errors,
        )
        return view

    return attach


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
        doc: RouteDoc | None = getattr(view, "__openapi__", None)
        if doc is None:
            continue
        path = _CONVERTER.sub(r"{\2}", rule.rule)
        path_params = [
            {"name": name, "in": "path", "required": True, "schema": _PARAM_SCHEMAS.get(converter, STRING)}
            for converter, name in _CONVERTER.findall(rule.rule)
        ]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(doc, path_params)
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(doc: RouteDoc, path_params: list[dict[str, Any]]) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": doc.summary, "tags": doc.tags, "parameters": list(path_params)}
    if doc.query is not None:
        operation["parameters"].append({"in": "query", "schema": doc.query})
    for name, description in doc.headers.items():
        operation["parameters"].append(
            {"in": "header", "name": name, "description": description, "schema": {"type": "string"}}
        )
    if doc.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc.body}}}
    responses: dict[str, Any] = {}
    for status, content in doc.responses.items():
        entry: dict[str, Any] = {"description": "OK" if status < 300 else str(status)}
        if isinstance(content, str):
            entry["content"] = {content: {"schema": {"type": "string"}}}
        elif content is not None:
            entry["content"] = {"application/json": {"schema": content}}
        responses[str(status)] = entry
    statuses = set(doc.errors) | {429, 503}
    if doc.query is not None:
        statuses |= {422}
    if doc.body is not None:
        statuses |= {400, 413, 415, 422}
    if doc.security == STAFF_SECURITY:
        statuses |= {401, 403}
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": _ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": "Error"}},
        }
    operation["responses"] = responses
    if doc.security:
        operation["security"] = [{doc.security: []}]
    return operation


bp = Blueprint("openapi", __name__)


@bp.get("/api/v1/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI document (built once per process; routes do not change at run time)."""
    spec = current_app.extensions.get("engagement.openapi")
    if spec is None:
        spec = current_app.extensions["engagement.openapi"] = build_spec(current_app)
    response = jsonify(spec)
    # It changes with a release only: caches may keep it a while, and revalidate by its ETag after.
    response.headers["Cache-Control"] = "public, max-age=300"
    response.add_etag()
    return response.make_conditional(request)
