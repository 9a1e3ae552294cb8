"""Webhooks: a site's endpoints, each event's delivery to each of them (the durable queue) and the recent
attempts kept for staff to read."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base

WEBHOOK_URL_LENGTH = 2000
EVENT_TYPE_LENGTH = 40


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its next attempt (or claimed by a worker until next_attempt_at)
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # out of attempts, or its endpoint was disabled: staff may replay it


class WebhookEndpoint(Base):
    """Where a site's events are posted, signed with its secret (Standard Webhooks)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_site", "site_id", "enabled"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(WEBHOOK_URL_LENGTH))
    description: Mapped[str] = mapped_column(String(500), default="")
    # The event types it wants; empty: every type.
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Why it was disabled by the service (410 Gone, failing for days); None when staff disabled it.
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    # After a rotation the old secret signs too, until it expires, so receivers can switch over.
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None]
    # Since when every attempt failed (None: the last attempt succeeded, or none was made).
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class WebhookDelivery(Base):
    """One event for one endpoint, written in the transaction of the event; delivered by the worker."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    # The webhook-id header: the same on every retry, so a receiver can drop a copy it already has.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(EVENT_TYPE_LENGTH))
    payload: Mapped[str] = mapped_column(Text)  # the exact body, signed as is on every attempt
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One try at a delivery, as staff see it; the last 100 of each endpoint are kept."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_endpoint", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    response_excerpt: Mapped[str] = mapped_column(String(1000), default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
