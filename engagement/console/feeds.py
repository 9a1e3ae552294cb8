"""Counter feeds in the console: their health on the counters page, with Sync now for any staff of the
site; the Feeds page (admins) to add one, replace its credentials, turn it off or on, and remove it. Every
form goes through the API's schemas and ``counters.feeds``, so the rules and messages are the API's.
Credentials are write-only: a page says whether a feed has them, never what they are."""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, request, url_for
from marshmallow import ValidationError

from engagement import clock
from engagement.console import auth
from engagement.console.blueprint import bp, page
from engagement.console.sites import admin_site, field_messages, staff_site
from engagement.counters import feeds
from engagement.counters.platforms import PLATFORMS
from engagement.counters.schemas import CreateFeedSchema, UpdateFeedSchema
from engagement.errors import ApiError, ValidationFailed
from engagement.models import CounterKind, Site

FEED_FIELDS = ("platform", "kind", "target", "account", "interval_minutes")
HEALTH_WORDS = {
    "ok": "working",
    "pending": "waiting for its first sync",
    "failing": "failing",
    "stale": "failing for too long: the counter is stale",
    "needs_credentials": "needs new credentials: not tried until they change",
    "disabled": "turned off",
}


def credential_names() -> dict[str, list[str]]:
    """Each credential name, with the platforms that need it (one password field each on the form)."""
    names: dict[str, list[str]] = {}
    for adapter in PLATFORMS.values():
        for name in adapter.credentials:
            names.setdefault(name, []).append(adapter.label)
    return names


def feed_rows(site: Site) -> list[dict[str, Any]]:
    """The site's feeds as the pages show them (any staff of the site)."""
    slugs, now = {site.id: site.slug}, clock.now()
    rows = []
    for feed in feeds.list_feeds(token=auth.current_principal(), slug=site.slug):
        row = feeds.view(feed, slugs, now)
        adapter = PLATFORMS.get(feed.platform)
        row["label"] = adapter.label if adapter else feed.platform
        row["health_words"] = HEALTH_WORDS.get(row["health"], row["health"])
        rows.append(row)
    return rows


@bp.post("/sites/<slug>/counter-feeds/<int:feed_id>/sync")
def sync_feed(slug: str, feed_id: int) -> Response:
    site = staff_site(slug)
    feed = feeds.sync_now(token=auth.current_principal(), slug=site.slug, feed_id=feed_id)
    if request.form.get("back") == "feeds":
        back = url_for("console.feeds_page", slug=site.slug, synced=feed.id)
    else:  # the counters page as it was: the same target and period
        view = {name: request.form[name] for name in ("target", "days") if request.form.get(name)}
        back = url_for("console.counters_page", slug=site.slug, **view, synced=feed.id)
    return redirect(f"{back}#feeds", 303)


def synced_notice(rows: list[dict[str, Any]]) -> str | None:
    """What Sync now did, read from the feed itself (``?synced=<id>``). The redirect carries the id alone,
    so the platform's message never travels in a URL (nor an access log) and no link can put words of its
    own in the notice."""
    synced = request.args.get("synced", "")
    row = next((row for row in rows if str(row["id"]) == synced), None)
    if row is None:
        return None
    if row["needs_credentials"] or row["consecutive_failures"]:
        outcome = f"failed: {row['last_error']}"
    elif row["last_refused"]:
        outcome = f"fetched, kept out: {row['last_refused']}"
    elif row["last_count"] is None:
        outcome = "no value yet"
    else:
        rounded = " (rounded by the platform)" if row["last_approximate"] else ""
        outcome = f"{row['last_count']:,}{rounded}"
    return f"Sync now: {row['label']} {row['account']}: {outcome}"


@bp.get("/sites/<slug>/counter-feeds")
def feeds_page(slug: str) -> Response:
    site = admin_site(slug)
    return _page(
        site, typed={"kind": CounterKind.FOLLOWERS.value, "target": "site", "interval_minutes": "180"}
    )


@bp.post("/sites/<slug>/counter-feeds")
def add_feed(slug: str) -> Response:
    site = admin_site(slug)
    typed = {name: request.form.get(name, "").strip() for name in FEED_FIELDS}
    adapter = PLATFORMS.get(typed["platform"])
    wanted = adapter.credentials if adapter else ()
    body: dict[str, Any] = {
        **typed,
        "interval_minutes": typed["interval_minutes"] or "180",
        "credentials": _typed_credentials(wanted),
    }
    try:
        new = CreateFeedSchema().load(body)
        feed = feeds.create_feed(token=auth.current_principal(), slug=site.slug, **new)
    except ValidationError as invalid:
        return _page(site, typed=typed, errors=field_messages(invalid.messages, body), status=422)
    except ValidationFailed as invalid:
        return _page(site, typed=typed, errors=_credential_errors(invalid.fields or {}), status=422)
    except ApiError as refused:
        return _page(site, typed=typed, errors={"platform": [refused.message]}, status=refused.status)
    return redirect(url_for("console.feeds_page", slug=site.slug, added=feed.id), 303)


@bp.post("/sites/<slug>/counter-feeds/<int:feed_id>")
def change_feed(slug: str, feed_id: int) -> Response:
    """Turn a feed on or off, or replace its credentials (``action``: enable, disable, credentials)."""
    site = admin_site(slug)
    feed = feeds.get_feed(token=auth.current_principal(), slug=site.slug, feed_id=feed_id)
    action = request.form.get("action")
    if action in ("enable", "disable"):
        changes: dict[str, Any] = {"enabled": action == "enable"}
    elif action == "credentials":
        adapter = PLATFORMS.get(feed.platform)
        names = adapter.credentials if adapter else ()
        changes = {"credentials": _typed_credentials(names)}
    else:
        raise ValidationFailed({"action": ["One of: enable, disable, credentials."]})
    try:
        feeds.update_feed(
            token=auth.current_principal(),
            slug=site.slug,
            feed_id=feed.id,
            **UpdateFeedSchema().load(changes),
        )
    except (ValidationError, ValidationFailed) as invalid:
        messages = invalid.messages if isinstance(invalid, ValidationError) else invalid.fields or {}
        texts = [text for found in _credential_errors(messages).values() for text in found]
        return _page(site, typed={}, feed_errors={feed.id: texts}, status=422)
    return redirect(url_for("console.feeds_page", slug=site.slug, changed=feed.id), 303)


@bp.get("/sites/<slug>/counter-feeds/<int:feed_id>/delete")
def confirm_feed_removal(slug: str, feed_id: int) -> Response:
    site = admin_site(slug)
    feed = feeds.get_feed(token=auth.current_principal(), slug=site.slug, feed_id=feed_id)
    label = PLATFORMS[feed.platform].label if feed.platform in PLATFORMS else feed.platform
    return page(
        "console/confirm.html",
        heading=f"Stop following {label} {feed.account}?",
        explanation=f"Its value leaves the {feed.kind} counter of {feed.target} at once; the counter's "
        "history stays. Its credentials are forgotten.",
        action=url_for("console.remove_feed", slug=site.slug, feed_id=feed.id),
        button="Remove the feed",
        back=url_for("console.feeds_page", slug=site.slug),
        revoked=False,
    )


@bp.post("/sites/<slug>/counter-feeds/<int:feed_id>/delete")
def remove_feed(slug: str, feed_id: int) -> Response:
    site = admin_site(slug)
    feeds.delete_feed(token=auth.current_principal(), slug=site.slug, feed_id=feed_id)
    return redirect(url_for("console.feeds_page", slug=site.slug, removed=1), 303)


def _page(
    site: Site,
    *,
    typed: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    feed_errors: dict[int, list[str]] | None = None,
    status: int = 200,
) -> Response:
    notice = None
    if request.args.get("added"):
        notice = "Feed added: it is fetched within a minute by the worker, or now with Sync now."
    elif request.args.get("changed"):
        notice = "Feed changed."
    elif request.args.get("removed"):
        notice = "Feed removed."
    rows = feed_rows(site)
    return page(
        "console/feeds.html",
        status=status,
        site=site,
        feeds=rows,
        platforms=list(PLATFORMS.values()),
        kinds=[kind.value for kind in CounterKind],
        credentials=credential_names(),
        typed=typed,
        errors=errors or {},
        feed_errors=feed_errors or {},
        notice=notice or synced_notice(rows),
    )


def _typed_credentials(names: tuple[str, ...]) -> dict[str, str]:
    """The credentials typed for these names; a blank field is one not given (the service says which are
    missing)."""
    typed = {name: request.form.get(f"credential_{name}", "").strip() for name in names}
    return {name: value for name, value in typed.items() if value}


def _credential_errors(fields: dict[str, Any]) -> dict[str, list[str]]:
    flat: dict[str, list[str]] = {}
    for name, texts in fields.items():
        if isinstance(texts, dict):  # a nested field's messages (credentials: {name: [...]})
            flat[name] = [f"{key}: {text}" for key, values in texts.items() for text in values]
        else:
            flat[name] = [str(text) for text in texts]
    return flat
