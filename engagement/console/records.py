"""A site's records: its mail subscribers (with the CSV export), its outbox (with Retry) and its audit log.

Each page is a keyset page of the staff API's listing, through the same service and permission checks
(404 unknown site, 403 outside a moderator's sites), filtered by the API's own query schema: a filter that
is not valid is its message next to its field (422) and an empty list, never an error page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, redirect, request, stream_with_context, url_for
from marshmallow import EXCLUDE, Schema, ValidationError

from engagement.console import auth
from engagement.console.blueprint import bp, page

# The site pages' lookup: 404 for an unknown site (naming nothing from the URL), 403 outside one's sites.
from engagement.console.sites import field_messages, staff_site
from engagement.database import MAX_ROW_ID
from engagement.errors import NotFound, ValidationFailed
from engagement.mail import staff as mail_staff
from engagement.mail.routes import subscribers_csv
from engagement.mail.schemas import OutboxQuery, SubscriberFilter, SubscribersQuery
from engagement.models import OutboxStatus, Site
from engagement.moderation import audit_entries
from engagement.moderation.schemas import AuditQuery
from engagement.pagination import Listing

PAGE_SIZE = 50
SUBSCRIBER_STATUSES = {"confirmed": "Confirmed", "pending": "Pending", "all": "All"}
# Failed messages first: they are the ones waiting for staff.
OUTBOX_STATUSES = {
    "failed": "Failed",
    "queued": "Queued",
    "sent": "Sent",
    "suppressed": "Suppressed",
    "all": "All",
}
RETRYABLE = {OutboxStatus.FAILED.value, OutboxStatus.QUEUED.value}


@dataclass(frozen=True)
class Records:
    """One page of a listing: the filters as typed, their messages, the rows and the next cursor."""

    typed: dict[str, str]
    errors: dict[str, list[str]]
    items: list[Any]
    cursor: str | None
    next_cursor: str | None

    @property
    def status(self) -> int:
        return 422 if self.errors else 200

    def view_args(self) -> dict[str, str]:
        """The filters to carry to the next page (without the cursor)."""
        return {name: value for name, value in self.typed.items() if value and name != "cursor"}


def load_records(
    schema: Schema, args: Mapping[str, str], names: tuple[str, ...], listing: Callable[..., Listing]
) -> Records:
    """The query string's ``names`` (blank ones left out, so the schema's defaults apply) loaded by the
    API's ``schema`` and listed by ``listing``; invalid filters are messages by field and no rows."""
    typed = {name: args.get(name, "").strip() for name in names}
    raw = {name: value for name, value in typed.items() if value}
    try:
        query = schema.load({**raw, "limit": PAGE_SIZE}, unknown=EXCLUDE)
        shown = listing(**query)
    except ValidationError as invalid:
        return Records(typed, field_messages(invalid.messages, raw), [], None, None)
    except ValidationFailed as invalid:  # a cursor the schema takes and the listing cannot decode
        return Records(typed, field_messages(invalid.fields or {}, raw), [], None, None)
    return Records(typed, {}, list(shown.items), query.get("cursor"), shown.next_cursor)


# --- subscribers ---------------------------------------------------------------------------------------


@bp.get("/sites/<slug>/subscribers")
def subscribers_page(slug: str) -> Response:
    site = staff_site(slug)
    principal = auth.current_principal()
    shown = load_records(
        SubscribersQuery(),
        {"status": "confirmed", **request.args.to_dict()},  # the API's default, so its tab is the current one
        ("status", "target", "cursor"),
        lambda **query: mail_staff.list_subscribers(token=principal, site=site.slug, **query),
    )
    return page(
        "console/subscribers.html",
        status=shown.status,
        site=site,
        shown=shown,
        statuses=SUBSCRIBER_STATUSES,
    )


@bp.get("/sites/<slug>/subscribers.csv")
def export_subscribers(slug: str) -> Response:
    site = staff_site(slug)
    try:
        query = SubscriberFilter().load(
            {name: request.args[name] for name in ("status", "target") if request.args.get(name)}
        )
    except ValidationError as invalid:
        return subscribers_page_with_errors(site, invalid)
    rows = mail_staff.export_subscribers(token=auth.current_principal(), site=site.slug, **query)
    # Streamed with the request's context (and so its database session) kept until the last row.
    response = Response(stream_with_context(subscribers_csv(rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{site.slug}-subscribers.csv"'
    return response


def subscribers_page_with_errors(site: Site, invalid: ValidationError) -> Response:
    typed = {name: request.args.get(name, "") for name in ("status", "target", "cursor")}
    shown = Records(typed, field_messages(invalid.messages, typed), [], None, None)
    return page("console/subscribers.html", status=422, site=site, shown=shown, statuses=SUBSCRIBER_STATUSES)


# --- outbox --------------------------------------------------------------------------------------------


@bp.get("/sites/<slug>/outbox")
def outbox_page(slug: str) -> Response:
    site = staff_site(slug)
    principal = auth.current_principal()
    args = {"status": "failed", **request.args.to_dict()}
    shown = load_records(
        OutboxQuery(),
        args,
        ("status", "cursor"),
        lambda **query: mail_staff.list_outbox(token=principal, **{**query, "site": site.slug}),
    )
    retried = request.args.get("retried", type=int)
    notice = f"Message {retried} queued again." if retried and 0 < retried <= MAX_ROW_ID else None
    return page(
        "console/outbox.html",
        status=shown.status,
        site=site,
        shown=shown,
        statuses=OUTBOX_STATUSES,
        retryable=RETRYABLE,
        notice=notice,
    )


@bp.post("/sites/<slug>/outbox/<int:message_id>/retry")
def retry_message(slug: str, message_id: int) -> Response:
    site = staff_site(slug)
    if message_id > MAX_ROW_ID:  # not a row id: the database would refuse the number itself
        raise NotFound("message_not_found", "There is no such message.")
    # The API's use case and its checks, for this site's messages only: another site's is a 404.
    message = mail_staff.retry_message(token=auth.current_principal(), message_id=message_id, site=site.slug)
    back = {"status": request.form["status"]} if request.form.get("status") in OUTBOX_STATUSES else {}
    return redirect(url_for("console.outbox_page", slug=site.slug, retried=message.id, **back), 303)


# --- audit log -----------------------------------------------------------------------------------------


@bp.get("/sites/<slug>/audit")
def audit_page(slug: str) -> Response:
    site = staff_site(slug)
    principal = auth.current_principal()
    shown = load_records(
        AuditQuery(),
        request.args,
        ("actor", "comment_id", "cursor"),
        lambda **query: audit_entries.list_entries(token=principal, **{**query, "site": site.slug}),
    )
    return page("console/audit.html", status=shown.status, site=site, shown=shown)
