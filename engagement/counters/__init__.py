"""The "Stay Connected" counters (fans, followers, subscribers) of a site or a target in it, and badges."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engagement import events
from engagement.counters import feed_routes, feeds, restore, routes, service
from engagement.mailer.sender import before_delivery
from engagement.models import SiteRef


def init_app(app: Flask) -> None:
    """Register the counter routes; count confirmed email subscriptions as native subscribers; write the
    counters a JSON restore reads."""
    app.register_blueprint(routes.public)
    app.register_blueprint(routes.fragments)
    app.register_blueprint(routes.staff)
    app.register_blueprint(routes.badges)
    app.register_blueprint(feed_routes.bp)
    events.subscription_counted.connect(_count_subscription, sender=app)
    events.counter_restored.connect(_restore_counter, sender=app)
    events.counter_readers_restored.connect(_restore_readers, sender=app)
    before_delivery.connect(_sync_feeds, sender=app)


def _sync_feeds(_app: Any) -> None:
    """The worker fetches the counter feeds that are due before each round of mail and webhooks."""
    feeds.sync_due()


def _count_subscription(_app: Any, *, site: SiteRef, target: str, delta: int) -> None:
    service.change_native_subscribers(site=site, target=target, delta=delta)


def _restore_counter(_app: Any, *, site: SiteRef, counter: dict[str, Any]) -> None:
    restore.restore_counter(site=site, counter=counter)


def _restore_readers(_app: Any, *, site: SiteRef, readers: list[dict[str, Any]]) -> None:
    restore.restore_readers(site=site, readers=readers)
