"""Delivering webhooks: claim due deliveries, post each signed (Standard Webhooks 1.0), record the outcome.

- Signature: ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` made by the
  ``standardwebhooks`` package, one per signing secret (two during a rotation's overlap).
- Schedule (the specification's): attempts at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
  20 h and 24 h; then the delivery fails and staff may replay it. ``Retry-After`` on a 429 or 503 is
  honoured (up to a day). ``410 Gone`` disables the endpoint. An endpoint whose every attempt has failed
  for five days is disabled and the admins are mailed.
- Each claim is a lease (``CLAIM_LEASE``), taken with ``SKIP LOCKED`` on PostgreSQL, so two workers never
  post the same delivery at once; a worker that dies mid-delivery leaves it to be retried after the lease.
- Connections go through ``engagement.outbound`` (public addresses only, no redirects).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from flask import current_app
from sqlalchemy import select, update
from standardwebhooks import Webhook

from engagement import clock
from engagement.extensions import db
from engagement.mailer.outbox import enqueue_email
from engagement.models import (
    DeliveryStatus,
    Site,
    StaffMember,
    StaffRole,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from engagement.outbound import checked_client, refused_as_non_public
from engagement.webhooks.service import prune_attempts, signing_secrets

log = logging.getLogger(__name__)

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_RETRY_AFTER = timedelta(hours=24)
DISABLE_AFTER = timedelta(days=5)
CLAIM_LEASE = timedelta(minutes=2)
BATCH_SIZE = 20
EXCERPT = 1000
USER_AGENT = "engagement-webhooks/1"


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


@dataclass(frozen=True)
class _Claimed:
    id: int
    message_id: str
    payload: str
    attempts: int
    endpoint_id: int


def deliver_due(*, flush: bool = False) -> DeliveryReport:
    """Every delivery due now, batch by batch; ``flush`` makes the queued ones whose retry is still
    waiting due first (an operator who fixed the receiving end need not wait out the backoff)."""
    if flush:
        flush_backoff()
    report = DeliveryReport()
    while True:
        claimed = _claim(limit=BATCH_SIZE)
        for delivery in claimed:
            _attempt(delivery, report)
        if len(claimed) < BATCH_SIZE:
            return report


def flush_backoff() -> int:
    """Make every queued delivery waiting out a retry due now. One a worker holds (its lease ends within
    ``CLAIM_LEASE``) is left to it; so is one due within the lease anyway."""
    now = clock.now()
    flushed = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.status == DeliveryStatus.QUEUED,
            WebhookDelivery.next_attempt_at > now + CLAIM_LEASE,
        )
        .values(next_attempt_at=now)
    ).rowcount
    db.session.commit()
    return int(flushed)


def _claim(*, limit: int) -> list[_Claimed]:
    now = clock.now()
    due = (
        select(WebhookDelivery)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.status == DeliveryStatus.QUEUED, WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)  # ignored by SQLite: its writers take turns
    )
    due = due.where(WebhookDelivery.next_attempt_at <= now)
    claimed = [
        _Claimed(row.id, row.message_id, row.payload, row.attempts, row.endpoint_id)
        for row in db.session.scalars(due)
    ]
    if claimed:
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_([c.id for c in claimed]))
            .values(next_attempt_at=now + CLAIM_LEASE)
        )
    db.session.commit()
    return claimed


def _attempt(claimed: _Claimed, report: DeliveryReport) -> None:
    endpoint = db.session.get(WebhookEndpoint, claimed.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        return
    now = clock.now()
    secrets = signing_secrets(endpoint, now)
    if not secrets:
        # Never post unsigned: the secret was stored under another ENGAGEMENT_SECRET_KEY.
        _record(
            claimed,
            endpoint,
            now,
            None,
            "The endpoint's secret cannot be read (the secret key changed): rotate it.",
            succeeded=False,
            retry_after=None,
            report=report,
        )
        db.session.commit()
        return
    headers = {
        "webhook-id": claimed.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(
            Webhook(secret).sign(claimed.message_id, now, claimed.payload) for secret in secrets
        ),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    config = current_app.config
    started = time.monotonic()
    status_code: int | None = None
    error: str | None = None
    excerpt = ""
    retry_after: timedelta | None = None
    try:
        with checked_client(
            timeout=config["WEBHOOK_TIMEOUT"], allow_private=config["WEBHOOKS_ALLOW_PRIVATE"]
        ) as client:
            response = client.post(endpoint.url, content=claimed.payload.encode(), headers=headers)
        status_code = response.status_code
        excerpt = response.text[:EXCERPT]
        if status_code in (429, 503):
            retry_after = _retry_after(response.headers.get("Retry-After"), now)
    except httpx.HTTPError as exc:
        error = ("refused: " if refused_as_non_public(exc) else "") + _describe(exc)
    duration_ms = int((time.monotonic() - started) * 1000)
    db.session.add(
        WebhookAttempt(
            endpoint_id=endpoint.id,
            delivery_id=claimed.id,
            attempted_at=now,
            status_code=status_code,
            error=error[:500] if error else None,
            response_excerpt=excerpt,
            duration_ms=duration_ms,
        )
    )
    succeeded = status_code is not None and 200 <= status_code < 300
    _record(
        claimed,
        endpoint,
        now,
        status_code,
        error,
        succeeded=succeeded,
        retry_after=retry_after,
        report=report,
    )
    prune_attempts(endpoint.id)
    db.session.commit()


def _record(
    claimed: _Claimed,
    endpoint: WebhookEndpoint,
    now: datetime,
    status_code: int | None,
    error: str | None,
    *,
    succeeded: bool,
    retry_after: timedelta | None,
    report: DeliveryReport,
) -> None:
    attempts = claimed.attempts + 1
    values: dict[str, object] = {"attempts": attempts, "last_status_code": status_code, "last_error": error}
    if succeeded:
        values |= {"status": DeliveryStatus.DELIVERED, "delivered_at": now}
        endpoint.failing_since = None
        report.delivered += 1
    elif status_code == 410:
        values |= {"status": DeliveryStatus.FAILED}
        _disable(endpoint, "The endpoint answered 410 Gone.", now, notify=False)
        report.failed += 1
    elif attempts > len(RETRY_DELAYS):
        values |= {"status": DeliveryStatus.FAILED}
        report.failed += 1
    else:
        values |= {"next_attempt_at": now + (retry_after or RETRY_DELAYS[attempts - 1])}
        report.retrying += 1
    if not succeeded:
        endpoint.failing_since = endpoint.failing_since or now
        if endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER:
            _disable(endpoint, "Every delivery failed for five days.", now, notify=True)
        log.warning(
            "webhook not delivered",
            extra={"fields": {"delivery_id": claimed.id, "status_code": status_code, "error": error}},
        )
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == claimed.id).values(**values))


def _disable(endpoint: WebhookEndpoint, reason: str, now: datetime, *, notify: bool) -> None:
    """Stop posting to the endpoint; what is queued for it waits, failed, for staff to replay."""
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.updated_at = now
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == DeliveryStatus.QUEUED)
        .values(status=DeliveryStatus.FAILED, last_error=reason)
    )
    if not notify:
        return
    site = db.session.get(Site, endpoint.site_id)
    admins = db.session.scalars(
        select(StaffMember.email).where(StaffMember.role == StaffRole.ADMIN, StaffMember.revoked_at.is_(None))
    )
    for address in admins:
        enqueue_email(
            to=address,
            subject=f"Webhook disabled: {endpoint.url}",
            template="webhook_disabled",
            context={"site": site, "endpoint": endpoint, "reason": reason},
            site=site,
            dedupe_key=f"webhook-disabled:{endpoint.id}:{int(now.timestamp())}:{address}",
        )


def _retry_after(header: str | None, now: datetime) -> timedelta | None:
    """``Retry-After`` in seconds or as an HTTP date, within a day; None when absent or unreadable."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        delay = timedelta(seconds=int(header))
    else:
        try:
            delay = parsedate_to_datetime(header) - now
        except (TypeError, ValueError):
            return None
    return max(timedelta(0), min(delay, MAX_RETRY_AFTER))


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
