"""gunicorn's sync worker, answering what gunicorn itself refuses before the app sees a request (a request
line or headers too long, a request that is not HTTP, a transfer coding it does not take) in the service's
one error shape, ``{"error": {"code", "message"}}``, instead of gunicorn's HTML page."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

# gunicorn's statuses for what it refuses, with codes as stable as the app's (engagement.errors); gunicorn's
# own message is not sent back: it quotes what the client sent (a request line of 4 KB, say).
_REFUSALS = {
    400: ("bad_request", "The request is not valid HTTP."),
    403: ("forbidden", "The request is forbidden."),
    414: ("uri_too_long", "The request line is too long: send a long question in a POST body."),
    417: ("expectation_failed", "The Expect header is not supported."),
    431: ("headers_too_large", "The request's headers are too many or too large."),
    501: ("not_implemented", "The request's transfer coding is not supported."),
}
_FAILED = ("internal_error", "The service failed to answer; try again.")


def json_error(status: int) -> bytes:
    """The whole HTTP answer gunicorn writes for a request it could not hand to the app."""
    code, message = _REFUSALS.get(status, _FAILED if status >= 500 else _REFUSALS[400])
    body = json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"  # gunicorn's 501 says "Bad Request"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def _write_json_error(sock: Any, status_int: int, _reason: str, _message: str) -> None:
    util.write_nonblock(sock, json_error(status_int))


class JsonErrorsSyncWorker(SyncWorker):
    """gunicorn's sync worker; only the page it writes for a refused request differs. gunicorn has no hook
    for that page, so ``util.write_error`` is swapped for the duration of ``handle_error`` (a sync worker
    handles one request at a time: nothing else runs meanwhile)."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        html_error = util.write_error
        util.write_error = _write_json_error
        try:
            super().handle_error(req, client, addr, exc)
        finally:
            util.write_error = html_error
