"""One JSON error shape for everything under /api: ``{"error": {"code", "message", "fields"?}}``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# Paths whose errors are JSON even when the failure happens before a view runs (404, 405, 413).
JSON_PATH_PREFIXES = ("/api/", "/badges/", "/readyz", "/widget/lang/")


class ApiError(Exception):
    """A failure with a stable machine-readable ``code``; subclasses fix the HTTP status."""

    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401

    def __init__(
        self, code: str = "unauthorized", message: str = "A valid bearer token is required."
    ) -> None:
        super().__init__(code, message, headers={"WWW-Authenticate": 'Bearer realm="engagement"'})


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Gone(ApiError):
    status = 410


class UnsupportedMediaType(ApiError):
    status = 415


class ValidationFailed(ApiError):
    status = 422

    def __init__(self, fields: dict[str, Any], message: str = "Some fields are not valid.") -> None:
        super().__init__("validation_failed", message, fields=fields)


class UnprocessableValue(ApiError):
    """422 with a code of its own: a well-formed value a rule outside the schema refuses (a key Akismet
    does not accept); ``fields`` names it."""

    status = 422


class ServiceUnavailable(ApiError):
    """503: a service the request depends on did not answer; nothing was changed, try again."""

    status = 503


class TooManyRequests(ApiError):
    status = 429

    def __init__(self, code: str, message: str, *, retry_after: int) -> None:
        super().__init__(code, message, headers={"Retry-After": str(max(1, retry_after))})


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    fields: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify(error=body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# Stable codes for the HTTP errors werkzeug raises before our code runs.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def _wants_json() -> bool:
    return request.path.startswith(JSON_PATH_PREFIXES)


@dataclass(frozen=True)
class Refusal:
    """What a refused request is told, whatever shape it is told in (JSON, or a page for a plain form)."""

    status: int
    code: str
    message: str
    fields: dict[str, Any] | None = None
    headers: dict[str, str] | None = None

    def as_json(self) -> Response:
        return error_response(self.status, self.code, self.message, fields=self.fields, headers=self.headers)


def refusal_of(error: ApiError | ValidationError | HTTPException) -> Refusal:
    if isinstance(error, ApiError):
        return Refusal(error.status, error.code, error.message, error.fields, error.headers)
    if isinstance(error, ValidationError):
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        return Refusal(422, "validation_failed", "Some fields are not valid.", messages)
    status = error.code or 500
    code = _HTTP_CODES.get(status, "http_error")
    headers = {}
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(sorted(valid_methods))
    if status == 429:
        headers["Retry-After"] = str(_retry_after(error))
        return Refusal(status, code, "Too many requests; slow down.", headers=headers)
    return Refusal(status, code, error.description or code.replace("_", " "), headers=headers)


def register_error_handlers(app: Flask) -> None:
    """Turn every error into the JSON shape (for API paths) and never leak a stack trace."""

    @app.errorhandler(ApiError)
    @app.errorhandler(ValidationError)
    def handle_api_error(error: ApiError | ValidationError) -> Response:
        return refusal_of(error).as_json()

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> Response | HTTPException:
        if not _wants_json():
            return error
        return refusal_of(error).as_json()

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError) -> Response:
        log.error("database error: %s", error.__class__.__name__, exc_info=error)
        return error_response(
            503,
            "database_unavailable",
            "The database is unavailable; try again shortly.",
            headers={"Retry-After": "5"},
        )

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")


def _retry_after(error: HTTPException) -> int:
    """Seconds until a Flask-Limiter limit resets (its exception carries the limit that was hit)."""
    limit = getattr(error, "limit", None)
    if limit is not None:
        try:
            return int(limit.limit.get_expiry())
        except (AttributeError, TypeError):
            pass
    return 60
