"""Counters that update themselves: a site's feeds (one platform account feeding one counter), managed by
staff, fetched by the worker through the platform's official API, each with its health.

- **Scheduling.** A feed is due at ``next_attempt_at``. A worker claims a due feed by moving that time
  forward in one conditional UPDATE (compare and set): two workers never fetch one feed in the same
  interval. After a success the next attempt is an interval later with up to 10% jitter (feeds added
  together spread out); after a failure it backs off (5 minutes doubling, at most the interval), or
  waits as long as a 429/503's ``Retry-After`` asks; a 401/403 marks the credentials as needing
  attention and stops trying until staff change them.
- **Values** go through ``push_external_count``, the rules of a push: a 0 or a drop over the site's
  ``max_drop_share`` is kept out and recorded as ``last_refused``; an older observation never undoes a
  newer one; history, badges and widget caches see the rest at once.
- **Stale**: a feed failing for the site's ``stale_after_hours`` mails its ``notify_emails`` once (until
  it works again). The counter's ``stale`` flag already follows its sources' observation times.
- **Credentials** are write-only: stored as Fernet-encrypted JSON, never answered, logged or exported.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import aliased

from engagement import audit, clock
from engagement.counters.platforms import PLATFORMS, PlatformError, Request
from engagement.counters.service import push_external_count, remove_external_source
from engagement.encryption import decrypt_secret, encrypt_secret
from engagement.errors import ApiError, Conflict, NotFound, ValidationFailed
from engagement.extensions import db
from engagement.mailer.outbox import enqueue_email
from engagement.models import Counter, CounterFeed, CounterKind, Site, StaffToken
from engagement.outbound import checked_client
from engagement.staff.access import require_admin, require_site, scoped_site_ids, site_in_scope

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = timedelta(hours=3)
MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(days=7)
FIRST_BACKOFF = timedelta(minutes=5)
MAX_RETRY_AFTER = timedelta(days=1)
FETCH_TIMEOUT = 10.0
HOST_MARGIN_SECONDS = 5  # a worker that died mid-fetch frees its host this long after the timeout
FEEDS_PER_SITE = 50
PER_ROUND = 20  # feeds a worker fetches before it lets mail and webhooks go again


@dataclass(frozen=True)
class SyncReport:
    synced: int = 0
    refused: int = 0  # fetched, kept out by the counter's rules
    failed: int = 0


# --- staff -----------------------------------------------------------------------------------------------


def list_feeds(*, token: StaffToken, slug: str | None) -> list[CounterFeed]:
    """The feeds of a site, or of every site the token reaches."""
    query = select(CounterFeed).order_by(
        CounterFeed.site_id, CounterFeed.target, CounterFeed.kind, CounterFeed.id
    )
    site_ids = scoped_site_ids(token, slug)
    if site_ids is not None:
        query = query.where(CounterFeed.site_id.in_(site_ids))
    return list(db.session.scalars(query))


def get_feed(*, token: StaffToken, slug: str, feed_id: int) -> CounterFeed:
    site = site_in_scope(token, slug)
    feed = db.session.get(CounterFeed, feed_id)
    if feed is None or feed.site_id != site.id:
        raise NotFound("feed_not_found", "This site has no such counter feed.")
    return feed


def create_feed(
    *,
    token: StaffToken,
    slug: str,
    target: str,
    kind: str,
    platform: str,
    account: str,
    credentials: Mapping[str, str],
    interval_minutes: int,
    enabled: bool,
) -> CounterFeed:
    """A new feed (admins: it holds credentials), due at once."""
    require_admin(token)
    site = site_in_scope(token, slug)
    count = len(db.session.scalars(select(CounterFeed.id).where(CounterFeed.site_id == site.id)).all())
    if count >= FEEDS_PER_SITE:
        raise Conflict("too_many_feeds", f"A site has at most {FEEDS_PER_SITE} counter feeds.")
    adapter = _platform(platform)
    _check_kind(adapter, kind)
    now = clock.now()
    feed = CounterFeed(
        site_id=site.id,
        target=target,
        kind=kind,
        platform=adapter.name,
        account=_account(adapter, account),
        credentials_encrypted=_sealed(adapter, credentials),
        host=_host(adapter, _account(adapter, account)),
        interval_seconds=interval_minutes * 60,
        enabled=enabled,
        consecutive_failures=0,
        needs_credentials=False,
        last_approximate=False,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(feed)
    db.session.flush()
    _audit(token, feed, "counter_feed_created")
    db.session.commit()
    return feed


def update_feed(*, token: StaffToken, slug: str, feed_id: int, **changes: Any) -> CounterFeed:
    """Change the account, credentials (replaced whole), interval or state; new credentials or a new
    account clear ``needs_credentials`` and make the feed due at once."""
    require_admin(token)
    feed = get_feed(token=token, slug=slug, feed_id=feed_id)
    adapter = _platform(feed.platform)
    now = clock.now()
    if changes.get("account") is not None:
        feed.account = _account(adapter, changes["account"])
        feed.host = _host(adapter, feed.account)
    if changes.get("credentials") is not None:
        feed.credentials_encrypted = _sealed(adapter, changes["credentials"])
    if changes.get("account") is not None or changes.get("credentials") is not None:
        feed.needs_credentials = False
        feed.next_attempt_at = now
    if changes.get("interval_minutes") is not None:
        feed.interval_seconds = changes["interval_minutes"] * 60
    if changes.get("enabled") is not None:
        feed.enabled = changes["enabled"]
        if feed.enabled and feed.next_attempt_at is None:
            feed.next_attempt_at = now
    feed.updated_at = now
    _audit(
        token,
        feed,
        "counter_feed_changed",
        sorted(name for name, value in changes.items() if value is not None),
    )
    db.session.commit()
    return feed


def delete_feed(*, token: StaffToken, slug: str, feed_id: int) -> None:
    """Remove the feed and the value it gave its counter (the counter's sum follows)."""
    require_admin(token)
    feed = get_feed(token=token, slug=slug, feed_id=feed_id)
    site = db.session.get(Site, feed.site_id)
    counter_id = db.session.scalar(
        select(Counter.id).where(
            Counter.site_id == feed.site_id, Counter.target == feed.target, Counter.kind == feed.kind
        )
    )
    _audit(token, feed, "counter_feed_deleted")
    source = feed.source_name
    db.session.delete(feed)
    if counter_id is not None:
        remove_external_source(
            site=site, counter_id=counter_id, target=feed.target, kind=CounterKind(feed.kind), source=source
        )
    db.session.commit()


def sync_now(*, token: StaffToken, slug: str, feed_id: int) -> CounterFeed:
    """Fetch one feed at once ("Sync now"), whatever its schedule, even one waiting for credentials."""
    feed = get_feed(token=token, slug=slug, feed_id=feed_id)
    require_site(token, db.session.get(Site, feed.site_id))
    with _client() as client:
        _sync(feed, client, clock.now())
    db.session.commit()
    return feed


# --- the worker ------------------------------------------------------------------------------------------


def sync_due(*, site_slug: str | None = None, everything: bool = False, limit: int = PER_ROUND) -> SyncReport:
    """Fetch the feeds due now (``everything``: every enabled feed, as ``sync-counters --once``), each
    claimed first so no other worker fetches it in the same interval."""
    now = clock.now()
    query = select(CounterFeed.id, CounterFeed.next_attempt_at, CounterFeed.host).where(
        CounterFeed.enabled.is_(True), CounterFeed.needs_credentials.is_(False)
    )
    if not everything:
        query = query.where(CounterFeed.next_attempt_at <= now)
    if site_slug is not None:
        query = query.join(Site, Site.id == CounterFeed.site_id).where(Site.slug == site_slug)
    candidates = db.session.execute(query.order_by(CounterFeed.next_attempt_at).limit(limit)).all()
    db.session.rollback()
    synced = refused = failed = 0
    with _client() as client:
        for feed_id, seen_at, host in candidates:
            feed = _claim(feed_id, seen_at, clock.now(), host)
            if feed is None:
                continue  # another worker took it, or is asking its host now
            outcome = _sync(feed, client, clock.now())
            _release(db.session.get(CounterFeed, feed_id))
            db.session.commit()
            synced += outcome == "synced"
            refused += outcome == "refused"
            failed += outcome == "failed"
    return SyncReport(synced=synced, refused=refused, failed=failed)


def _claim(feed_id: int, seen_at: datetime | None, now: datetime, host: str) -> CounterFeed | None:
    """Take the feed for this fetch: move its next attempt past it, if no other worker did first (compare
    and set), and hold its platform host, if no other feed of that host is being fetched (one request in
    flight per host, for every worker together). None: someone else has it, or its host is busy (it stays
    due for the next round).

    One statement decides both. SQLite runs one writer at a time, so it sees the other claims; PostgreSQL
    first takes a transaction lock named by the host, so two claims on one host take turns."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"counter-feed-host:{host}"))))
    seen = (
        CounterFeed.next_attempt_at.is_(None) if seen_at is None else CounterFeed.next_attempt_at == seen_at
    )
    other = aliased(CounterFeed)
    host_busy = exists().where(other.host == host, other.id != feed_id, other.fetching_until > now)
    held = now + timedelta(seconds=FETCH_TIMEOUT + HOST_MARGIN_SECONDS)
    claimed = db.session.execute(
        update(CounterFeed)
        .where(CounterFeed.id == feed_id, seen, ~host_busy)
        .values(next_attempt_at=now + timedelta(seconds=FETCH_TIMEOUT * 6), fetching_until=held)
        .returning(CounterFeed.id)
    ).first()
    db.session.commit()
    return db.session.get(CounterFeed, feed_id) if claimed else None


def _release(feed: CounterFeed) -> None:
    feed.fetching_until = None


def _sync(feed: CounterFeed, client: Any, now: datetime) -> str:
    """One fetch and what it leaves: the value pushed (or refused by the counter's rules) or the failure,
    and the next attempt. Returns "synced", "refused" or "failed"."""
    adapter = PLATFORMS.get(feed.platform)
    site = db.session.get(Site, feed.site_id)
    if adapter is None:
        return _failed(feed, site, PlatformError(f"Unknown platform {feed.platform!r}."), now)
    configured = current_app.config["PLATFORM_URLS"].get(feed.platform)
    request = Request(
        account=feed.account,
        kind=CounterKind(feed.kind),
        credentials=_opened(feed),
        base_url=adapter.base_url(feed.account, configured),
    )
    try:
        fetched = adapter.fetch(client, request)
    except PlatformError as error:
        return _failed(feed, site, error, now)
    except Exception as unexpected:  # an adapter's bug must not stop the round, nor Sync now answer 500
        # Only the exception's type is kept: its text could hold what the adapter was sending.
        kind = type(unexpected).__name__
        log.error("counter feed adapter failed", extra={"fields": {"feed_id": feed.id, "error": kind}})
        message = f"The platform's answer could not be read ({kind})."
        return _failed(feed, site, PlatformError(message), now)
    feed.consecutive_failures = 0
    feed.failing_since = None
    feed.stale_mailed_at = None
    feed.last_success_at = now
    feed.next_attempt_at = now + _jittered(timedelta(seconds=feed.interval_seconds))
    feed.updated_at = now
    if fetched.count is None:  # the platform withholds it now (YouTube's hidden count): nothing to apply
        feed.last_refused = "The platform hides this number now; the counter keeps its last value."
        return "synced"
    feed.last_count = fetched.count
    feed.last_approximate = fetched.approximate
    site_id, source = feed.site_id, feed.source_name
    try:
        push_external_count(
            site=site,
            kind=CounterKind(feed.kind),
            target=feed.target,
            source=source,
            count=fetched.count,
            observed_at=now,
        )
    except ApiError as kept_out:  # suspicious_drop, stale_observation: rolled back by the push
        feed = db.session.get(CounterFeed, feed.id)
        _record_kept_out(feed, kept_out, fetched.count, fetched.approximate, now)
        return "refused"
    feed = db.session.get(CounterFeed, feed.id)
    feed.last_refused = None
    log.info(
        "counter feed synced",
        extra={"fields": {"feed_id": feed.id, "site_id": site_id, "count": fetched.count}},
    )
    return "synced"


def _record_kept_out(
    feed: CounterFeed, kept_out: ApiError, count: int, approximate: bool, now: datetime
) -> None:
    feed.last_success_at = now
    feed.last_count = count
    feed.last_approximate = approximate
    feed.last_refused = f"{count} not applied: {kept_out.message}"[:400]
    feed.consecutive_failures = 0
    feed.failing_since = None
    feed.next_attempt_at = now + _jittered(timedelta(seconds=feed.interval_seconds))
    feed.updated_at = now


def _failed(feed: CounterFeed, site: Site, error: PlatformError, now: datetime) -> str:
    feed.consecutive_failures += 1
    feed.failing_since = feed.failing_since or now
    feed.last_error = error.message
    feed.last_error_status = error.status
    feed.last_error_at = now
    feed.updated_at = now
    interval = timedelta(seconds=feed.interval_seconds)
    if error.credentials_rejected:
        feed.needs_credentials = True
        feed.next_attempt_at = None
    elif error.retry_after is not None:
        feed.next_attempt_at = now + min(timedelta(seconds=error.retry_after), MAX_RETRY_AFTER)
    else:
        feed.next_attempt_at = now + min(FIRST_BACKOFF * 2 ** (feed.consecutive_failures - 1), interval)
    _mail_if_stale(feed, site, now)
    log.warning(
        "counter feed failed",
        extra={"fields": {"feed_id": feed.id, "status": error.status, "error": error.message}},
    )
    return "failed"


def _mail_if_stale(feed: CounterFeed, site: Site, now: datetime) -> None:
    hours = site.settings.stale_after_hours
    if hours <= 0 or feed.stale_mailed_at is not None or feed.failing_since is None:
        return
    if now - feed.failing_since < timedelta(hours=hours):
        return
    feed.stale_mailed_at = now
    for address in site.settings.notify_emails:
        enqueue_email(
            to=address,
            subject=f"{site.name}: the {feed.kind} counter stopped updating from {feed.platform}",
            template="counter_feed_stale",
            context={"site": site, "feed": feed, "hours": hours},
            site=site,
            dedupe_key=f"counter-feed-stale:{feed.id}:{int(feed.failing_since.timestamp())}:{address}",
        )


# --- helpers ---------------------------------------------------------------------------------------------


def _client() -> Any:
    return checked_client(timeout=FETCH_TIMEOUT, allow_private=current_app.config["PLATFORMS_ALLOW_PRIVATE"])


def _jittered(interval: timedelta) -> timedelta:
    return interval + interval * random.uniform(0, 0.1)  # spreads feeds added together


def _platform(name: str) -> Any:
    adapter = PLATFORMS.get(name)
    if adapter is None:
        raise ValidationFailed({"platform": [f"One of: {', '.join(sorted(PLATFORMS))}."]})
    return adapter


def _check_kind(adapter: Any, kind: str) -> None:
    if kind not in {k.value for k in adapter.kinds}:
        names = ", ".join(k.value for k in adapter.kinds)
        raise ValidationFailed({"kind": [f"{adapter.label} can feed {names} only."]})


def _account(adapter: Any, account: str) -> str:
    try:
        return adapter.check_account(account)
    except ValueError as wrong:
        raise ValidationFailed({"account": [str(wrong)]}) from None


def _host(adapter: Any, account: str) -> str:
    """The host a feed's requests go to on the platform itself (configured test URLs aside)."""
    return (urlsplit(adapter.base_url(account, None)).hostname or adapter.name)[:255]


def _sealed(adapter: Any, credentials: Mapping[str, str]) -> str | None:
    missing = [name for name in adapter.credentials if not str(credentials.get(name, "")).strip()]
    extra = sorted(set(credentials) - set(adapter.credentials))
    if missing or extra:
        wanted = ", ".join(adapter.credentials) or "none"
        raise ValidationFailed({"credentials": [f"{adapter.label} needs these credentials: {wanted}."]})
    if not adapter.credentials:
        return None
    return encrypt_secret(json.dumps({name: str(credentials[name]).strip() for name in adapter.credentials}))


def _opened(feed: CounterFeed) -> dict[str, str]:
    """The feed's credentials in clear; none when the service's secret key changed since they were sealed."""
    plain = decrypt_secret(feed.credentials_encrypted)
    return json.loads(plain) if plain else {}


def _audit(token: StaffToken, feed: CounterFeed, action: str, changed: list[str] | None = None) -> None:
    details = {"feed_id": feed.id, "platform": feed.platform, "account": feed.account, "target": feed.target}
    audit.record(
        actor=token.label, action=action, site_id=feed.site_id, details={**details, "changed": changed or []}
    )


def health(feed: CounterFeed, now: datetime) -> str:
    """One word for the feed's state: ok, failing, stale, needs_credentials, disabled, pending."""
    if not feed.enabled:
        return "disabled"
    if feed.needs_credentials:
        return "needs_credentials"
    if feed.consecutive_failures:
        site = db.session.get(Site, feed.site_id)
        hours = site.settings.stale_after_hours if site else 0
        if hours and feed.failing_since and now - feed.failing_since >= timedelta(hours=hours):
            return "stale"
        return "failing"
    return "ok" if feed.last_success_at else "pending"


def view(feed: CounterFeed, slugs: Mapping[int, str], now: datetime) -> dict[str, Any]:
    """A feed as the API and the console show it: its settings and health, never its credentials."""
    return {
        "id": feed.id,
        "site": slugs.get(feed.site_id, ""),
        "target": feed.target,
        "kind": feed.kind,
        "platform": feed.platform,
        "account": feed.account,
        "source": feed.source_name,
        "has_credentials": feed.credentials_encrypted is not None,
        "interval_minutes": feed.interval_seconds // 60,
        "enabled": feed.enabled,
        "health": health(feed, now),
        "last_success_at": feed.last_success_at,
        "last_count": feed.last_count,
        "last_approximate": feed.last_approximate,
        "last_refused": feed.last_refused,
        "last_error": feed.last_error,
        "last_error_status": feed.last_error_status,
        "last_error_at": feed.last_error_at,
        "consecutive_failures": feed.consecutive_failures,
        "failing_since": feed.failing_since,
        "needs_credentials": feed.needs_credentials,
        "next_attempt_at": feed.next_attempt_at,
    }


def platforms_described() -> list[dict[str, Any]]:
    """What staff need to set a feed up, per platform."""
    return [
        {
            "name": adapter.name,
            "label": adapter.label,
            "kinds": [kind.value for kind in adapter.kinds],
            "credentials": list(adapter.credentials),
            "account_hint": adapter.account_hint,
        }
        for adapter in PLATFORMS.values()
    ]
