"""Counter endpoints: the widget's "Stay Connected" block, staff pushes and history, and badges."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from engagement import caching
from engagement.cors import current_site, enable_site_cors
from engagement.counters import service
from engagement.counters.badges import MIN_CACHE_SECONDS, endpoint_json, render_svg
from engagement.counters.schemas import (
    BadgeEndpointSchema,
    BadgeQuery,
    EngagementSchema,
    HistoryQuery,
    HistorySchema,
    PushCountSchema,
    PushedCountSchema,
    TargetQuery,
    parse_kind,
)
from engagement.extensions import rate_limit
from engagement.http import load_body, load_query
from engagement.models import CounterKind, Site
from engagement.openapi import STAFF_SECURITY, documented
from engagement.readers import READER_HEADER, optional_reader, required_reader
from engagement.staff.access import site_in_scope
from engagement.staff.auth import current_staff

public = Blueprint("counters", __name__, url_prefix="/api/v1/sites/<site>/engagement")
enable_site_cors(public)
staff = Blueprint("counters_staff", __name__, url_prefix="/api/v1/moderation/sites/<site>/engagement")
badges = Blueprint("badges", __name__, url_prefix="/badges")

TAGS = ["counters"]
BADGE_TAGS = ["badges"]
BADGE_MAX_AGE = MIN_CACHE_SECONDS
_READER_DOC = {READER_HEADER: "The reader's id; adds whether this reader has liked/followed"}
_engagement = EngagementSchema()

# One budget per IP for liking and un-liking alike, so toggling cannot double it.
_reader_action_limit = rate_limit("RATELIMIT_REACTION", shared_scope="counter-reader-actions")


def _read_limit() -> Any:
    return rate_limit("RATELIMIT_READ")


@public.get("")
@_read_limit()
@documented(
    "Fans, followers and subscribers of a target (and the reader's own state)",
    tags=TAGS,
    query=TargetQuery,
    headers=_READER_DOC,
    responses={200: EngagementSchema},
    errors=(400, 404, 422),
)
def get_engagement(site: str) -> Response:
    args = load_query(TargetQuery)
    state = service.get_engagement(site=current_site(), target=args["target"], reader=optional_reader())
    response = jsonify(_engagement.dump(state))
    # The reader's own likes and follows are part of it: no shared cache may keep it for others.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@public.post("/<kind>")
@_reader_action_limit
@documented(
    "Like (fans) or follow (followers); repeating is a no-op",
    tags=TAGS,
    query=TargetQuery,
    headers={READER_HEADER: "Required: the reader's id"},
    responses={200: EngagementSchema},
    errors=(400, 403, 404, 422),
)
def join_counter(site: str, kind: str) -> dict[str, Any]:
    return _set_reader_action(kind, active=True)


@public.delete("/<kind>")
@_reader_action_limit
@documented(
    "Take back a like or follow; repeating is a no-op",
    tags=TAGS,
    query=TargetQuery,
    headers={READER_HEADER: "Required: the reader's id"},
    responses={200: EngagementSchema},
    errors=(400, 403, 404, 422),
)
def leave_counter(site: str, kind: str) -> dict[str, Any]:
    return _set_reader_action(kind, active=False)


def _set_reader_action(kind: str, *, active: bool) -> dict[str, Any]:
    args = load_query(TargetQuery)
    state = service.set_reader_action(
        site=current_site(),
        kind=parse_kind(kind),
        target=args["target"],
        reader=required_reader(),
        active=active,
    )
    return _engagement.dump(state)


def _staff_site(slug: str) -> Site:
    return site_in_scope(current_staff(), slug)  # 401 before revealing whether the site exists


@staff.put("/<kind>")
@documented(
    "Push a platform's count (refused as suspicious_drop when 0 or a large drop, unless forced)",
    tags=TAGS,
    body=PushCountSchema,
    responses={200: PushedCountSchema},
    security=STAFF_SECURITY,
    errors=(404, 409),
)
def push_count(site: str, kind: str) -> dict[str, Any]:
    site_obj = _staff_site(site)
    counter_kind = parse_kind(kind)
    args = load_body(PushCountSchema)
    state = service.push_external_count(site=site_obj, kind=counter_kind, **args)
    return PushedCountSchema().dump({"target": args["target"], "kind": counter_kind, "counter": state})


@staff.get("/history")
@documented(
    "Daily values of a target's counters, for growth charts",
    tags=TAGS,
    query=HistoryQuery,
    responses={200: HistorySchema},
    security=STAFF_SECURITY,
    errors=(404, 422),
)
def history(site: str) -> dict[str, Any]:
    site_obj = _staff_site(site)
    args = load_query(HistoryQuery)
    kind = CounterKind(args["kind"]) if args["kind"] else None
    series = service.counter_history(site=site_obj, target=args["target"], kind=kind, days=args["days"])
    return HistorySchema().dump(series)


@badges.get("/<site>/<kind>.svg")
@_read_limit()
@documented(
    "A shields-style badge, e.g. 'Followers | 1.2k'",
    tags=BADGE_TAGS,
    query=BadgeQuery,
    responses={200: "image/svg+xml", 304: None},
    errors=(404, 422),
)
def badge_svg(site: str, kind: str) -> Response:
    def render(args: dict[str, Any], text: service.BadgeText) -> _BadgeAnswer:
        svg = render_svg(label=text.label, message=text.message, color=text.color, style=args["style"])
        return _badge_answer(
            ["svg", args["style"], text.label, text.message, text.color], svg, "image/svg+xml"
        )

    return _cacheable(_answered(site, kind, "svg", render))


@badges.get("/<site>/<kind>.json")
@_read_limit()
@documented(
    "The same badge as shields' endpoint JSON, for img.shields.io/endpoint?url=...",
    tags=BADGE_TAGS,
    query=BadgeQuery,
    responses={200: BadgeEndpointSchema, 304: None},
    errors=(404, 422),
)
def badge_json(site: str, kind: str) -> Response:
    def render(_args: dict[str, Any], text: service.BadgeText) -> _BadgeAnswer:
        document = endpoint_json(
            label=text.label, message=text.message, color=text.color, cache_seconds=BADGE_MAX_AGE
        )
        body = current_app.json.dumps(document) + "\n"
        return _badge_answer(["json", text.label, text.message, text.color], body, "application/json")

    return _cacheable(_answered(site, kind, "json", render))


@badges.after_request
def badge_headers(response: Response) -> Response:
    # Badges are public and embedded anywhere; an SVG opened directly must not run anything.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def _badge_text(site: str, kind: str, args: dict[str, Any]) -> service.BadgeText:
    return service.badge_text(
        site_slug=site, target=args["target"], kind=parse_kind(kind), label=args["label"], color=args["color"]
    )


@dataclass(frozen=True, slots=True)
class _BadgeAnswer:
    etag: str  # derived from the content, so every process and host answers the same one
    body: str
    mimetype: str


def _badge_answer(content_key: list[str], body: str, mimetype: str) -> _BadgeAnswer:
    etag = hashlib.sha256(json.dumps(content_key).encode()).hexdigest()[:32]
    return _BadgeAnswer(etag=etag, body=body, mimetype=mimetype)


def _answered(
    site: str, kind: str, form: str, render: Callable[[dict[str, Any], service.BadgeText], _BadgeAnswer]
) -> _BadgeAnswer:
    """A badge as answered before for this query string while its counter has not changed (its change
    stamp): every page view fetches it, and a repeat then costs one stamp read. Otherwise the query is
    validated, the count looked up (404 for an unknown site or kind) and the badge rendered."""
    args: dict[str, Any] = {}

    def depends_on() -> list[str]:
        args.update(load_query(BadgeQuery))
        return [caching.counter_key(site, args["target"], parse_kind(kind).value)]

    def build() -> _BadgeAnswer:
        return render(args, _badge_text(site, kind, args))

    return caching.dependent_cache("badge_answers").get(
        (site, kind, form, request.query_string), depends_on, build
    )


def _cacheable(answer: _BadgeAnswer) -> Response:
    """200 with the badge's content-derived ETag, or 304 when the client already has it."""
    if request.if_none_match.contains_weak(answer.etag):
        response = Response(status=304)
    else:
        response = Response(answer.body, mimetype=answer.mimetype)
    response.set_etag(answer.etag)
    response.headers["Cache-Control"] = f"public, max-age={BADGE_MAX_AGE}"
    return response
