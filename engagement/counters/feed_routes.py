"""Staff endpoints for counter feeds (counters that update themselves) under
/api/v1/moderation/sites/<site>/counter-feeds: any staff of the site reads them and asks for a sync now;
admins create, change and delete them (they hold credentials, which no answer ever carries)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from engagement import clock
from engagement.api import arguments, response, staff_doc
from engagement.counters import feeds
from engagement.counters.schemas import CreateFeedSchema, FeedListSchema, FeedSchema, UpdateFeedSchema
from engagement.models import CounterFeed
from engagement.staff.access import site_slugs
from engagement.staff.auth import current_staff

bp = Blueprint("counter_feeds", __name__, url_prefix="/api/v1/moderation/sites/<site>/counter-feeds")
TAGS = ["counters"]


@bp.before_request
def authenticate() -> None:
    current_staff()


def _view(feed: CounterFeed) -> dict[str, Any]:
    return feeds.view(feed, site_slugs(), clock.now())


@bp.get("")
@staff_doc(
    "A site's counter feeds with their health, and the platforms a feed can follow", tags=TAGS, errors=(404,)
)
@response(200, FeedListSchema)
def list_feeds(site: str) -> dict[str, Any]:
    slugs, now = site_slugs(), clock.now()
    items = [feeds.view(feed, slugs, now) for feed in feeds.list_feeds(token=current_staff(), slug=site)]
    return {"items": items, "platforms": feeds.platforms_described()}


@bp.post("")
@staff_doc(
    "Follow a platform account's number into a counter (admins); fetched at once, then at its interval",
    tags=TAGS,
    errors=(404, 409),
)
@arguments(CreateFeedSchema)
@response(201, FeedSchema)
def create_feed(new: dict[str, Any], site: str) -> tuple[dict[str, Any], int]:
    return _view(feeds.create_feed(token=current_staff(), slug=site, **new)), 201


@bp.get("/<int:feed_id>")
@staff_doc("A counter feed and its health", tags=TAGS, errors=(404,))
@response(200, FeedSchema)
def get_feed(site: str, feed_id: int) -> dict[str, Any]:
    return _view(feeds.get_feed(token=current_staff(), slug=site, feed_id=feed_id))


@bp.patch("/<int:feed_id>")
@staff_doc(
    "Change a feed's account, credentials (replaced whole; retried at once), interval or state (admins)",
    tags=TAGS,
    errors=(404,),
)
@arguments(UpdateFeedSchema)
@response(200, FeedSchema)
def update_feed(changes: dict[str, Any], site: str, feed_id: int) -> dict[str, Any]:
    return _view(feeds.update_feed(token=current_staff(), slug=site, feed_id=feed_id, **changes))


@bp.delete("/<int:feed_id>")
@staff_doc("Stop following it; its value leaves the counter (admins)", tags=TAGS, errors=(404,))
@response(204)
def delete_feed(site: str, feed_id: int) -> None:
    feeds.delete_feed(token=current_staff(), slug=site, feed_id=feed_id)


@bp.post("/<int:feed_id>/sync")
@staff_doc("Sync now: fetch the feed at once and answer its health", tags=TAGS, errors=(404,))
@response(200, FeedSchema)
def sync_now(site: str, feed_id: int) -> dict[str, Any]:
    return _view(feeds.sync_now(token=current_staff(), slug=site, feed_id=feed_id))
