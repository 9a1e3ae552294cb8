"""Webhooks (Standard Webhooks 1.0): a site's endpoints, managed by admins, and the events queued for them.

An event writes one delivery row per endpoint that wants it, in the transaction of the change that
caused it (like the mail outbox), so an event is never lost and never sent for a change that rolled
back. The worker (``delivery.py``) posts and retries them. Payloads are thin, ``{type, timestamp, data}``
with ids and states, never a reader's email or address: a receiver that needs more asks the API.

Secrets are ``whsec_`` + base64 of 32 random bytes, shown once, stored encrypted (``encryption.py``); a
rotation keeps the previous secret signing too for the overlap staff choose, so receivers can switch.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session, SessionTransaction

from engagement import audit, caching, clock
from engagement.clock import isoformat_z
from engagement.encryption import decrypt_secret, encrypt_secret
from engagement.errors import NotFound, UnprocessableValue
from engagement.extensions import db
from engagement.models import (
    DeliveryStatus,
    SiteRef,
    StaffToken,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from engagement.outbound import is_public_address
from engagement.staff.access import require_admin, site_in_scope

EVENT_TYPES = (
    "comment.created",
    "comment.approved",
    "comment.held",
    "comment.rejected",
    "comment.edited",
    "comment.deleted",
    "comment.reported",
    "counter.changed",
    "subscriber.confirmed",
    "thread.closed",
)
SECRET_BYTES = 32
MAX_ENDPOINTS_PER_SITE = 20
MAX_OVERLAP = timedelta(days=7)
_ROUTES_MEMO = "webhook_routes"


@dataclass(frozen=True)
class EndpointRoute:
    """What an event needs of an endpoint to decide whether it goes there (cached per site)."""

    id: int
    events: frozenset[str]  # empty: every type

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one during its overlap."""
    found = [decrypt_secret(endpoint.secret_encrypted)]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret_encrypted and expires is not None and expires > now:
        found.append(decrypt_secret(endpoint.previous_secret_encrypted))
    return [secret for secret in found if secret]


# --- events -------------------------------------------------------------------------------------------


def queue_event(*, site: SiteRef, event_type: str, data: Callable[[], dict[str, Any]]) -> None:
    """One delivery per endpoint of ``site`` that wants ``event_type``, in the caller's transaction.
    ``data`` is only called when some endpoint wants the event: most sites have none, and a bulk
    decision announces a thousand comments."""
    routes = [route for route in _routes(site.id) if route.wants(event_type)]
    if not routes:
        return
    now = clock.now()
    body = json.dumps(
        {"type": event_type, "timestamp": isoformat_z(now), "data": {"site": site.slug, **data()}},
        separators=(",", ":"),
        ensure_ascii=False,
    )
    db.session.add_all(
        WebhookDelivery(
            endpoint_id=route.id,
            message_id=f"msg_{secrets.token_urlsafe(18)}",
            event_type=event_type,
            payload=body,
            status=DeliveryStatus.QUEUED,
            next_attempt_at=now,
            created_at=now,
        )
        for route in routes
    )


def _routes(site_id: int) -> tuple[EndpointRoute, ...]:
    """The site's enabled endpoints, cached per process until an endpoint of the site changes, and
    remembered for the rest of the transaction (a bulk decision asks once, not once per comment)."""
    memo: dict[int, tuple[EndpointRoute, ...]] = db.session.info.setdefault(_ROUTES_MEMO, {})
    if site_id not in memo:
        with db.session.no_autoflush:  # asked in the middle of a change: what it holds may be half made
            memo[site_id] = _cached_routes(site_id)
    return memo[site_id]


@event.listens_for(Session, "after_transaction_end")
def _forget_routes(session: Session, transaction: SessionTransaction) -> None:
    # Only when the outermost transaction ends: every flush opens and ends a subtransaction of its own.
    if transaction.parent is None:
        session.info.pop(_ROUTES_MEMO, None)


def _cached_routes(site_id: int) -> tuple[EndpointRoute, ...]:
    def load() -> tuple[EndpointRoute, ...]:
        rows = db.session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events).where(
                WebhookEndpoint.site_id == site_id, WebhookEndpoint.enabled.is_(True)
            )
        )
        return tuple(EndpointRoute(id=row.id, events=frozenset(row.events or ())) for row in rows)

    return caching.cache("webhooks").get(caching.webhooks_key(site_id), load)


# --- endpoints ----------------------------------------------------------------------------------------


def check_url(url: str) -> str:
    """An endpoint URL staff may register: https (http only where private addresses are allowed), a
    host, no credentials in it; a literal or resolved address that is not public is refused here too
    (the worker checks again at every connection: a name can change)."""
    allow_private = current_app.config["WEBHOOKS_ALLOW_PRIVATE"]
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_private):
        raise _bad_url("webhook_url_scheme", "Use an https:// address.")
    if not parts.hostname or parts.username or parts.password:
        raise _bad_url("webhook_url_invalid", "Give an address such as https://hooks.example/engagement.")
    try:
        parts.port  # noqa: B018 (raises on a malformed port)
    except ValueError:
        raise _bad_url("webhook_url_invalid", "The address's port is not valid.") from None
    if not allow_private:
        try:
            addresses = [str(ipaddress.ip_address(parts.hostname))]
        except ValueError:
            try:
                addresses = [str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, None)]
            except (OSError, UnicodeError):
                addresses = []  # not resolvable now: the worker checks it at every connection
        if any(not is_public_address(address) for address in addresses):
            raise _bad_url("webhook_url_not_public", "The address is not on the public internet.")
    return url


def _bad_url(code: str, message: str) -> UnprocessableValue:
    return UnprocessableValue(code, message, fields={"url": [message]})


def list_endpoints(*, token: StaffToken, slug: str) -> list[WebhookEndpoint]:
    site = _admin_site(token, slug)
    return list(
        db.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.site_id == site.id).order_by(WebhookEndpoint.id)
        )
    )


def queued_counts(*, token: StaffToken, slug: str) -> dict[int, int]:
    """How many deliveries wait for each of the site's endpoints (absent: none). One grouped count over
    the queued ones only, which the due index holds: delivered rows, however many, are not read."""
    site = _admin_site(token, slug)
    rows = db.session.execute(
        select(WebhookDelivery.endpoint_id, func.count())
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.status == DeliveryStatus.QUEUED, WebhookEndpoint.site_id == site.id)
        .group_by(WebhookDelivery.endpoint_id)
    )
    return {endpoint_id: count for endpoint_id, count in rows}


def create_endpoint(
    *, token: StaffToken, slug: str, url: str, events: list[str], description: str, enabled: bool
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret, which is answered this once."""
    site = _admin_site(token, slug)
    count = db.session.scalar(select(func.count()).where(WebhookEndpoint.site_id == site.id))
    if (count or 0) >= MAX_ENDPOINTS_PER_SITE:
        raise UnprocessableValue(
            "too_many_webhooks", f"A site has at most {MAX_ENDPOINTS_PER_SITE} webhook endpoints."
        )
    secret = new_secret()
    endpoint = WebhookEndpoint(
        site_id=site.id,
        url=check_url(url),
        events=sorted(set(events)),
        description=description,
        enabled=enabled,
        secret_encrypted=encrypt_secret(secret),
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    db.session.add(endpoint)
    db.session.flush()
    _audit(token, site.id, "webhook_created", endpoint)
    db.session.commit()
    return endpoint, secret


def update_endpoint(*, token: StaffToken, slug: str, endpoint_id: int, **changes: Any) -> WebhookEndpoint:
    """Change url, events, description or enabled; enabling clears the reason the service disabled it."""
    endpoint = _endpoint(token, slug, endpoint_id)
    if "url" in changes:
        endpoint.url = check_url(changes["url"])
    if "events" in changes:
        endpoint.events = sorted(set(changes["events"]))
    if "description" in changes:
        endpoint.description = changes["description"]
    if "enabled" in changes:
        endpoint.enabled = changes["enabled"]
        if endpoint.enabled:
            endpoint.disabled_reason = None
            endpoint.failing_since = None
    endpoint.updated_at = clock.now()
    _audit(token, endpoint.site_id, "webhook_updated", endpoint, details=sorted(changes))
    db.session.commit()
    return endpoint


def rotate_secret(
    *, token: StaffToken, slug: str, endpoint_id: int, overlap: timedelta
) -> tuple[WebhookEndpoint, str]:
    """A new secret (answered once); the old one keeps signing alongside it for ``overlap``."""
    endpoint = _endpoint(token, slug, endpoint_id)
    secret = new_secret()
    now = clock.now()
    if overlap > timedelta(0):
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = now + min(overlap, MAX_OVERLAP)
    else:
        endpoint.previous_secret_encrypted = None
        endpoint.previous_secret_expires_at = None
    endpoint.secret_encrypted = encrypt_secret(secret)
    endpoint.updated_at = now
    _audit(token, endpoint.site_id, "webhook_secret_rotated", endpoint)
    db.session.commit()
    return endpoint, secret


def delete_endpoint(*, token: StaffToken, slug: str, endpoint_id: int) -> None:
    endpoint = _endpoint(token, slug, endpoint_id)
    _audit(token, endpoint.site_id, "webhook_deleted", endpoint)
    db.session.delete(endpoint)
    db.session.commit()


def recent_attempts(*, token: StaffToken, slug: str, endpoint_id: int) -> list[WebhookAttempt]:
    endpoint = _endpoint(token, slug, endpoint_id)
    return list(
        db.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.endpoint_id == endpoint.id)
            .order_by(WebhookAttempt.id.desc())
            .limit(100)
        )
    )


def deliveries(
    *, token: StaffToken, slug: str, endpoint_id: int, status: str | None, limit: int
) -> list[WebhookDelivery]:
    endpoint = _endpoint(token, slug, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if status:
        query = query.where(WebhookDelivery.status == status)
    return list(db.session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def replay(
    *, token: StaffToken, slug: str, endpoint_id: int, delivery_id: int | None, since: datetime | None
) -> int:
    """Queue again one delivery, or every delivery of the endpoint since a time, whatever became of it:
    the same message id and body (receivers drop what they already have). Returns how many."""
    endpoint = _endpoint(token, slug, endpoint_id)
    query = update(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if delivery_id is not None:
        query = query.where(WebhookDelivery.id == delivery_id)
    elif since is not None:
        query = query.where(WebhookDelivery.created_at >= since)
    replayed = db.session.execute(
        query.values(status=DeliveryStatus.QUEUED, next_attempt_at=clock.now(), attempts=0)
    ).rowcount
    if delivery_id is not None and not replayed:
        raise NotFound("delivery_not_found", "There is no such delivery for this endpoint.")
    _audit(token, endpoint.site_id, "webhook_replayed", endpoint, details=[str(replayed)])
    db.session.commit()
    return int(replayed)


def _admin_site(token: StaffToken, slug: str) -> Any:
    require_admin(token)
    return site_in_scope(token, slug)


def _endpoint(token: StaffToken, slug: str, endpoint_id: int) -> WebhookEndpoint:
    site = _admin_site(token, slug)
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.site_id != site.id:
        raise NotFound("webhook_not_found", "There is no such webhook endpoint on this site.")
    return endpoint


def _audit(
    token: StaffToken, site_id: int, action: str, endpoint: WebhookEndpoint, details: list[str] | None = None
) -> None:
    audit.record(
        actor=token.label,
        action=action,
        site_id=site_id,
        details={"endpoint_id": endpoint.id, "url": endpoint.url, "changed": details or []},
    )


def prune_attempts(endpoint_id: int, keep: int = 100) -> None:
    """Keep the endpoint's last ``keep`` attempts."""
    cutoff = db.session.scalar(
        select(WebhookAttempt.id)
        .where(WebhookAttempt.endpoint_id == endpoint_id)
        .order_by(WebhookAttempt.id.desc())
        .offset(keep)
        .limit(1)
    )
    if cutoff is not None:
        db.session.execute(
            delete(WebhookAttempt).where(
                WebhookAttempt.endpoint_id == endpoint_id, WebhookAttempt.id <= cutoff
            )
        )
