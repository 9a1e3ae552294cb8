"""A site's webhooks, for admins: its endpoints (state, why the service disabled one, failing since, what
waits for it) and a new one, its secret shown once; for each, Enable / Disable, its address, events and
description, a new secret (shown once, the old one signing beside it for the overlap chosen), Delete after
asking, and a page of its last 100 attempts and recent deliveries with Replay.

The API's rule and the API's code: every route asks for an admin, then the site (403 for a moderator before
anything is read or validated, 404 for an unknown site or endpoint), every form is loaded by the API's
schema, and every change is the API's use case in ``engagement.webhooks.service``, so a field's message
here is the API's. The service's refusal of an address (its scheme, a private or loopback host while
``ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE`` is off) is a message next to the URL field.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, redirect, request, url_for
from marshmallow import ValidationError, validate

from engagement.console import auth
from engagement.console.blueprint import bp, page
from engagement.console.service import Principal
from engagement.console.sites import field_messages, staff_site
from engagement.database import MAX_ROW_ID
from engagement.errors import NotFound, UnprocessableValue, ValidationFailed
from engagement.models import Site, WebhookEndpoint
from engagement.staff import access
from engagement.webhooks import schemas, service

# The deliveries the endpoint page lists, newest first (the attempts: the service's last 100).
RECENT_DELIVERIES = 50
# An answer's excerpt as the attempts list shows it (the API gives the stored 1,000 characters).
EXCERPT_SHOWN = 200
ENDPOINT_FIELDS = ("url", "description")
# The rotation form's field: the API's default and range.
_OVERLAP = schemas.RotateSecretSchema().fields["overlap_hours"]
OVERLAP_RANGE = next(v for v in _OVERLAP.validators if isinstance(v, validate.Range))
STATE_NOTICES = {True: "now enabled; what is queued for it is posted.", False: "now disabled."}


# --- the endpoints -----------------------------------------------------------------------------------


@bp.get("/sites/<slug>/webhooks")
def webhooks_page(slug: str) -> Response:
    principal, site = _admin_site(slug)
    listed = service.list_endpoints(token=principal, slug=site.slug)
    # The notice names a listed endpoint by id: never text from the URL.
    changed = next((e for e in listed if e.id == request.args.get("changed", type=int)), None)
    notice = f"{changed.url}: {STATE_NOTICES[changed.enabled]}" if changed is not None else None
    if request.args.get("deleted"):
        notice = "The endpoint was deleted, with everything queued for it."
    return _webhooks_page(site, listed, typed={"events": []}, errors={}, notice=notice)


@bp.post("/sites/<slug>/webhooks")
def create_webhook(slug: str) -> Response:
    principal, site = _admin_site(slug)
    body, typed = _endpoint_form()
    try:
        new = schemas.CreateEndpointSchema().load(body)
        endpoint, secret = service.create_endpoint(token=principal, slug=site.slug, **new)
    except ValidationError as invalid:
        errors = field_messages(invalid.messages, body)
    except UnprocessableValue as refused:
        errors = _refusal(refused)
    else:
        # The secret is in this answer only (never in a URL; the blueprint sends no-store).
        return page("console/webhook_secret.html", status=201, site=site, endpoint=endpoint, secret=secret)
    listed = service.list_endpoints(token=principal, slug=site.slug)
    return _webhooks_page(site, listed, typed=typed, errors=errors, status=422)


@bp.post("/sites/<slug>/webhooks/<int:endpoint_id>/enabled")
def set_webhook_enabled(slug: str, endpoint_id: int) -> Response:
    principal, site = _admin_site(slug)
    endpoint = _endpoint(principal, site, endpoint_id)
    try:  # a button's value, not something typed: a tampered one is the 422 page
        pressed = {"enabled": request.form.get("enabled")}
        change = schemas.UpdateEndpointSchema(only=("enabled",)).load(pressed)
    except ValidationError as invalid:
        raise ValidationFailed(invalid.messages) from None
    service.update_endpoint(token=principal, slug=site.slug, endpoint_id=endpoint.id, **change)
    target = url_for("console.webhooks_page", slug=site.slug, changed=endpoint.id)
    return redirect(f"{target}#endpoint-{endpoint.id}", 303)


# --- one endpoint ------------------------------------------------------------------------------------


@bp.get("/sites/<slug>/webhooks/<int:endpoint_id>")
def webhook_page(slug: str, endpoint_id: int) -> Response:
    principal, site = _admin_site(slug)
    endpoint = _endpoint(principal, site, endpoint_id)
    replayed = request.args.get("replayed", type=int)
    notice = None
    if request.args.get("saved"):
        notice = "Endpoint saved."
    elif replayed is not None and 0 <= replayed <= MAX_ROW_ID:
        notice = f"{replayed} deliver{'y' if replayed == 1 else 'ies'} queued again."
    return _webhook_page(site, endpoint, typed=_current_values(endpoint), errors={}, notice=notice)


@bp.post("/sites/<slug>/webhooks/<int:endpoint_id>")
def update_webhook(slug: str, endpoint_id: int) -> Response:
    principal, site = _admin_site(slug)
    endpoint = _endpoint(principal, site, endpoint_id)
    body, typed = _endpoint_form()
    try:
        changes = _changes(endpoint, schemas.UpdateEndpointSchema().load(body))
        if changes:
            service.update_endpoint(token=principal, slug=site.slug, endpoint_id=endpoint.id, **changes)
    except ValidationError as invalid:
        errors = field_messages(invalid.messages, body)
    except UnprocessableValue as refused:
        errors = _refusal(refused)
    else:
        target = url_for("console.webhook_page", slug=site.slug, endpoint_id=endpoint.id, saved=1)
        return redirect(target, 303)
    return _webhook_page(site, endpoint, typed=typed, errors=errors, status=422)


@bp.post("/sites/<slug>/webhooks/<int:endpoint_id>/rotate")
def rotate_webhook_secret(slug: str, endpoint_id: int) -> Response:
    principal, site = _admin_site(slug)
    endpoint = _endpoint(principal, site, endpoint_id)
    typed = request.form.get("overlap_hours", "").strip()
    body = {"overlap_hours": typed} if typed else {}  # blank: the API's default
    try:
        rotation = schemas.RotateSecretSchema().load(body)
    except ValidationError as invalid:
        errors = field_messages(invalid.messages, body)
        values = _current_values(endpoint) | {"overlap_hours": typed}
        return _webhook_page(site, endpoint, typed=values, errors=errors, status=422)
    endpoint, secret = service.rotate_secret(
        token=principal,
        slug=site.slug,
        endpoint_id=endpoint.id,
        overlap=timedelta(hours=rotation["overlap_hours"]),
    )
    return page("console/webhook_secret.html", site=site, endpoint=endpoint, secret=secret, rotated=True)


@bp.post("/sites/<slug>/webhooks/<int:endpoint_id>/replay")
def replay_webhook(slug: str, endpoint_id: int) -> Response:
    principal, site = _admin_site(slug)
    endpoint = _endpoint(principal, site, endpoint_id)
    # One delivery (its Replay button), or every delivery since a time: never everything by a blank field.
    if "delivery_id" in request.form:
        body = {"delivery_id": request.form["delivery_id"]}
    else:
        body = {"since": request.form.get("since", "").strip()}
    try:
        if body.get("since") == "":
            raise ValidationError({"since": ["Give the date and time (UTC) to replay from."]})
        replay = schemas.ReplaySchema().load(body)
    except ValidationError as invalid:
        errors = field_messages(invalid.messages, body)
        values = _current_values(endpoint) | {"since": request.form.get("since", "")}
        return _webhook_page(site, endpoint, typed=values, errors=errors, status=422)
    replayed = service.replay(token=principal, slug=site.slug, endpoint_id=endpoint.id, **replay)
    target = url_for("console.webhook_page", slug=site.slug, endpoint_id=endpoint.id, replayed=replayed)
    return redirect(f"{target}#deliveries", 303)


@bp.get("/sites/<slug>/webhooks/<int:endpoint_id>/delete")
def confirm_webhook_deletion(slug: str, endpoint_id: int) -> Response:
    principal, site = _admin_site(slug)
    endpoint = _endpoint(principal, site, endpoint_id)
    return page(
        "console/confirm.html",
        heading=f"Delete the webhook endpoint {endpoint.url}?",
        explanation=(
            "Nothing more is posted to it; what is queued for it, its deliveries and its attempts are "
            "deleted with it, and its secret stops working. This cannot be undone."
        ),
        action=url_for("console.delete_webhook", slug=site.slug, endpoint_id=endpoint.id),
        button="Delete the endpoint",
        back=url_for("console.webhook_page", slug=site.slug, endpoint_id=endpoint.id),
        revoked=False,
    )


@bp.post("/sites/<slug>/webhooks/<int:endpoint_id>/delete")
def delete_webhook(slug: str, endpoint_id: int) -> Response:
    principal, site = _admin_site(slug)
    endpoint = _endpoint(principal, site, endpoint_id)
    service.delete_endpoint(token=principal, slug=site.slug, endpoint_id=endpoint.id)
    return redirect(url_for("console.webhooks_page", slug=site.slug, deleted=1), 303)


# --- helpers -----------------------------------------------------------------------------------------


def _admin_site(slug: str) -> tuple[Principal, Site]:
    """The signed-in admin and the site: the API's rule, asked before anything is read or validated (403
    for a moderator, whichever their sites; 404 for an unknown site, naming nothing from the URL)."""
    principal = auth.current_principal()
    access.require_admin(principal)
    return principal, staff_site(slug)


def _endpoint(principal: Principal, site: Site, endpoint_id: int) -> WebhookEndpoint:
    """One of the site's endpoints (a site has at most ``MAX_ENDPOINTS_PER_SITE``), or the 404 page."""
    listed = service.list_endpoints(token=principal, slug=site.slug)
    endpoint = next((e for e in listed if e.id == endpoint_id), None)
    if endpoint is None:
        raise NotFound("webhook_not_found", "There is no such webhook endpoint on this site.")
    return endpoint


def _endpoint_form() -> tuple[dict[str, Any], dict[str, Any]]:
    """The posted endpoint as the API's body (one-line fields trimmed: a text box's edges are invisible;
    the events ticked, none meaning every type) and as typed, to show again."""
    typed: dict[str, Any] = {name: request.form.get(name, "") for name in ENDPOINT_FIELDS}
    typed["events"] = request.form.getlist("events")
    body = {name: typed[name].strip() for name in ENDPOINT_FIELDS} | {"events": typed["events"]}
    return body, typed


def _current_values(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The endpoint's fields as its form shows them, and as the API's schema loads them back."""
    return {"url": endpoint.url, "description": endpoint.description, "events": list(endpoint.events or ())}


def _changes(endpoint: WebhookEndpoint, update: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``update`` that differ from the endpoint's: only those are sent, so the audit entry
    names what changed (the events as a set: ticked in the page's order, kept sorted)."""
    current = _current_values(endpoint)
    return {
        name: value
        for name, value in update.items()
        if (set(value) != set(current[name]) if name == "events" else value != current[name])
    }


def _refusal(refused: UnprocessableValue) -> dict[str, list[str]]:
    """The service's refusal as messages: by field (an address), or for the whole form (too many)."""
    return {name: list(texts) for name, texts in (refused.fields or {"form": [refused.message]}).items()}


def _webhooks_page(
    site: Site,
    listed: list[WebhookEndpoint],
    *,
    typed: dict[str, Any],
    errors: dict[str, list[str]],
    notice: str | None = None,
    status: int = 200,
) -> Response:
    queued = service.queued_counts(token=auth.current_principal(), slug=site.slug)
    return page(
        "console/webhooks.html",
        status=status,
        site=site,
        endpoints=listed,
        queued=queued,
        event_types=service.EVENT_TYPES,
        typed=typed,
        errors=errors,
        notice=notice,
    )


def _webhook_page(
    site: Site,
    endpoint: WebhookEndpoint,
    *,
    typed: dict[str, Any],
    errors: dict[str, list[str]],
    notice: str | None = None,
    status: int = 200,
) -> Response:
    principal = auth.current_principal()
    attempts = service.recent_attempts(token=principal, slug=site.slug, endpoint_id=endpoint.id)
    recent = service.deliveries(
        token=principal, slug=site.slug, endpoint_id=endpoint.id, status=None, limit=RECENT_DELIVERIES
    )
    return page(
        "console/webhook.html",
        status=status,
        site=site,
        endpoint=endpoint,
        attempts=attempts,
        deliveries=recent,
        event_types=service.EVENT_TYPES,
        excerpt_shown=EXCERPT_SHOWN,
        overlap=OVERLAP_RANGE,
        typed={"overlap_hours": str(_OVERLAP.load_default), **typed},
        errors=errors,
        notice=notice,
    )
