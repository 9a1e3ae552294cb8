"""Mail endpoints: subscribing (the widget), the pages mailed links open, and the staff outbox."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, stream_with_context

from engagement.api import arguments, doc, response, staff_doc
from engagement.clock import isoformat_z
from engagement.cors import current_site, enable_site_cors
from engagement.errors import ApiError
from engagement.extensions import rate_limit
from engagement.mail import schemas, service
from engagement.mail import staff as mail_staff
from engagement.mailer.pages import MAIL_LINK_PAGE, declare_link_page, link_page, serve_link_pages
from engagement.staff.auth import current_staff

public = Blueprint("mail", __name__, url_prefix="/api/v1/sites/<site>")
enable_site_cors(public)
links = Blueprint("mail_links", __name__, url_prefix="/mail")
staff = Blueprint("mail_staff", __name__, url_prefix="/api/v1/moderation")

TAGS = ["mail"]


# --- public ----------------------------------------------------------------------------------------------


@public.post("/subscribers")
@rate_limit("RATELIMIT_SUBSCRIBE")
@doc(
    "Subscribe an email address: 202 and a confirmation mail, the same answer for every address",
    tags=TAGS,
    errors=(403, 404),
)
@arguments(schemas.SubscribeSchema)
@response(202, schemas.SubscribeAcceptedSchema)
def subscribe(subscription: dict[str, Any], site: str) -> dict[str, Any]:
    service.request_subscription(
        site=current_site(),
        target=subscription["target"],
        email=subscription["email"],
        language=subscription["lang"],
    )
    return {}


# --- pages opened from mail (engagement.mailer.pages) ----------------------------------------------------


@links.get("/confirm/<token>")
@declare_link_page("Page asking to confirm an address", tags=TAGS)
def confirm_page(token: str) -> Response:
    return _page(step="ask", purpose="confirm", subject=service.describe_confirmation(token))


@links.post("/confirm/<token>")
@declare_link_page("Confirm an address (subscription or reply notifications)", tags=TAGS)
def confirm(token: str) -> Response:
    return _page(step="done", purpose="confirm", subject=service.confirm(token))


@links.get("/unsubscribe/<token>")
@declare_link_page("Page asking to unsubscribe", tags=TAGS)
def unsubscribe_page(token: str) -> Response:
    return _page(step="ask", purpose="unsubscribe", subject=service.describe_unsubscribe(token))


@links.post("/unsubscribe/<token>")
@declare_link_page("Unsubscribe; also the RFC 8058 one-click target (no body needed)", tags=TAGS)
def unsubscribe(token: str) -> Response:
    return _page(step="done", purpose="unsubscribe", subject=service.unsubscribe(token))


def _page(
    *, step: str, purpose: str, subject: Any, error: ApiError | None = None, status: int = 200
) -> Response:
    return link_page(MAIL_LINK_PAGE, status=status, step=step, purpose=purpose, subject=subject, error=error)


def _refused(error: ApiError) -> Response:
    return _page(step="refused", purpose="", subject=None, error=error, status=error.status)


serve_link_pages(links, _refused)


# --- staff -----------------------------------------------------------------------------------------------


@staff.before_request
def authenticate() -> None:
    current_staff()


@staff.get("/outbox")
@staff_doc("Outgoing mail by status; failed messages wait here for a retry", tags=TAGS, errors=(404,))
@arguments(schemas.OutboxQuery, location="query")
@response(200, schemas.OutboxListSchema)
def list_outbox(args: dict[str, Any]) -> Any:
    return mail_staff.list_outbox(token=current_staff(), **args)


@staff.post("/outbox/<int:message_id>/retry")
@staff_doc("Queue a failed message again, with a fresh set of attempts", tags=TAGS, errors=(404, 409))
@response(200, schemas.OutboxMessageSchema)
def retry_message(message_id: int) -> Any:
    return mail_staff.retry_message(token=current_staff(), message_id=message_id)


@staff.get("/sites/<site>/subscribers")
@staff_doc("A site's email subscribers (confirmed ones by default)", tags=TAGS, errors=(404,))
@arguments(schemas.SubscribersQuery, location="query")
@response(200, schemas.SubscriberListSchema)
def list_subscribers(args: dict[str, Any], site: str) -> Any:
    return mail_staff.list_subscribers(token=current_staff(), site=site, **args)


@staff.get("/sites/<site>/subscribers.csv")
@staff_doc(
    "Export a site's subscribers as CSV (email, target, confirmed_at, created_at)", tags=TAGS, errors=(404,)
)
@arguments(schemas.SubscriberFilter, location="query")
@response(200, "text/csv")
def export_subscribers(args: dict[str, Any], site: str) -> Response:
    rows = mail_staff.export_subscribers(token=current_staff(), site=site, **args)
    # Streamed with the request's context (and so its database session) kept until the last row.
    response = Response(stream_with_context(subscribers_csv(rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{site}-subscribers.csv"'
    return response


def subscribers_csv(rows: Iterator[Any]) -> Iterator[str]:
    """Subscribers as the CSV export gives them (the API's and the console's), formula cells made inert;
    produced a chunk of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "target", "confirmed_at", "created_at"])
    for number, row in enumerate(rows, start=1):
        writer.writerow(
            [_inert(row.email), row.target, isoformat_z(row.confirmed_at) or "", isoformat_z(row.created_at)]
        )
        if number % CSV_CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


CSV_CHUNK_ROWS = 1_000


def _inert(value: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula; "=1+2@example.org" is a valid address."""
    return "'" + value if value.startswith(("=", "+", "-", "@")) else value
