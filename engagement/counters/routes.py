"""Counter endpoints: the widget's "Stay Connected" block, staff pushes and history, and badges."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, request

from engagement import caching
from engagement.api import STAFF_SECURITY, alt_response, arguments, doc, response
from engagement.cors import current_site, enable_site_cors
from engagement.counters import presenters, service
from engagement.counters.badges import MIN_CACHE_SECONDS, endpoint_json, render_svg
from engagement.counters.schemas import (
    BadgeEndpointSchema,
    BadgeQuery,
    EngagementSchema,
    HistoryQuery,
    HistorySchema,
    PushCountSchema,
    PushedCountSchema,
    ReaderEngagementSchema,
    TargetHtmlQuery,
    TargetQuery,
    parse_kind,
)
from engagement.extensions import rate_limit
from engagement.fragments import fragment_etag, fragment_response, render_fragment
from engagement.http import conditional
from engagement.models import CounterKind, Site
from engagement.readers import READER_HEADER, optional_reader, required_reader
from engagement.staff.access import site_in_scope
from engagement.staff.auth import current_staff

public = Blueprint("counters", __name__, url_prefix="/api/v1/sites/<site>/engagement")
enable_site_cors(public)
# The block as HTML sits beside the JSON it is drawn from: /api/v1/sites/<site>/engagement.html.
fragments = Blueprint("counters_html", __name__, url_prefix="/api/v1/sites/<site>")
enable_site_cors(fragments)
staff = Blueprint("counters_staff", __name__, url_prefix="/api/v1/moderation/sites/<site>/engagement")
badges = Blueprint("badges", __name__, url_prefix="/badges")

TAGS = ["counters"]
BADGE_TAGS = ["badges"]
BADGE_MAX_AGE = MIN_CACHE_SECONDS
_READER_DOC = {READER_HEADER: "The reader's id; adds whether this reader has liked/followed"}
_READER_REQUIRED = {READER_HEADER: "Required: the reader's id"}

# One budget per IP for liking and un-liking alike, so toggling cannot double it.
_reader_action_limit = rate_limit("RATELIMIT_REACTION", shared_scope="counter-reader-actions")


def _read_limit() -> Any:
    return rate_limit("RATELIMIT_READ")


@public.get("")
@_read_limit()
@doc(
    "Fans, followers and subscribers of a target: the same for every reader, so public and revalidated "
    "by its ETag. Sent with X-Engagement-Reader, the reader's own state is added (private; the widget "
    "asks /engagement/reader for it instead, so this answer stays shared)",
    tags=TAGS,
    headers=_READER_DOC,
    errors=(400, 404),
)
@arguments(TargetQuery, location="query")
@response(200, EngagementSchema, presented=True)
@alt_response(304)
def get_engagement(args: dict[str, Any], site: str) -> Response | tuple[dict[str, Any], int, dict[str, str]]:
    snapshot, target, reader = current_site(), args["target"], optional_reader()
    shared = service.shared_engagement(site=snapshot, target=target)
    if reader is not None:
        # The shape embeds made before the split still get, their reader's state in it: for them only.
        state = service.Engagement(
            target=target,
            counters=shared.counters,
            reader=service.reader_state(site=snapshot, target=target, reader=reader),
        )
        return (
            presenters.engagement(state),
            200,
            {"Cache-Control": "private, no-cache", "Vary": READER_HEADER},
        )
    answer = conditional(
        shared.etag, shared.body, mimetype="application/json", cache_control="public, no-cache"
    )
    answer.headers["Vary"] = READER_HEADER  # a cache must not give this answer to a request that names one
    return answer


@public.get("/reader")
@_read_limit()
@doc(
    "Which of a target's counters the reader has joined (liked, followed): the private half of the "
    "Stay Connected block",
    tags=TAGS,
    headers=_READER_REQUIRED,
    errors=(400, 404),
)
@arguments(TargetQuery, location="query")
@response(200, ReaderEngagementSchema)
def get_reader_engagement(args: dict[str, Any], site: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    snapshot, target = current_site(), args["target"]
    state = service.reader_state(site=snapshot, target=target, reader=required_reader())
    return {"target": target, "reader": state}, 200, {"Cache-Control": "private, no-cache"}


@fragments.get("/engagement.html")
@_read_limit()
@doc(
    "The Stay Connected block as an HTML fragment for the article's own page (no script; counts only)",
    tags=TAGS,
    errors=(400, 404),
)
@arguments(TargetHtmlQuery, location="query")
@response(200, "text/html")
@alt_response(304)
def engagement_html(args: dict[str, Any], site: str) -> Response:
    snapshot = current_site()
    target, language = args["target"], args["lang"] or snapshot.settings.language
    state = service.get_engagement(site=snapshot, target=target, reader=None)
    counts = {kind: counter.count for kind, counter in state.counters.items()}
    etag = fragment_etag("counters", snapshot.id, snapshot.slug, target, language, sorted(counts.items()))
    return fragment_response(
        etag,
        lambda: render_fragment(
            "counters.html", language=language, site=snapshot.slug, target=target, counts=counts
        ),
    )


def _reader_action(summary: str) -> Callable[[Any], Any]:
    """The declaration both reader actions share: the target in the query, the reader in a header."""

    def declare(view: Any) -> Any:
        view = response(200, EngagementSchema, presented=True)(arguments(TargetQuery, location="query")(view))
        return doc(summary, tags=TAGS, headers=_READER_REQUIRED, errors=(400, 403, 404))(view)

    return declare


@public.post("/<kind>")
@_reader_action_limit
@_reader_action("Like (fans) or follow (followers); repeating is a no-op")
def join_counter(args: dict[str, Any], site: str, kind: str) -> dict[str, Any]:
    return _set_reader_action(args, kind, active=True)


@public.delete("/<kind>")
@_reader_action_limit
@_reader_action("Take back a like or follow; repeating is a no-op")
def leave_counter(args: dict[str, Any], site: str, kind: str) -> dict[str, Any]:
    return _set_reader_action(args, kind, active=False)


def _set_reader_action(args: dict[str, Any], kind: str, *, active: bool) -> dict[str, Any]:
    state = service.set_reader_action(
        site=current_site(),
        kind=parse_kind(kind),
        target=args["target"],
        reader=required_reader(),
        active=active,
    )
    return presenters.engagement(state)


def _staff_site(slug: str) -> Site:
    return site_in_scope(current_staff(), slug)  # 401 before revealing whether the site exists


@staff.put("/<kind>")
@doc(
    "Push a platform's count (refused as suspicious_drop when 0 or a large drop, unless forced)",
    tags=TAGS,
    security=STAFF_SECURITY,
    errors=(404, 409),
)
@arguments(PushCountSchema)
@response(200, PushedCountSchema)
def push_count(push: dict[str, Any], site: str, kind: str) -> dict[str, Any]:
    site_obj = _staff_site(site)
    counter_kind = parse_kind(kind)
    state = service.push_external_count(site=site_obj, kind=counter_kind, **push)
    return {"target": push["target"], "kind": counter_kind, "counter": state}


@staff.get("/history")
@doc(
    "Daily values of a target's counters, for growth charts",
    tags=TAGS,
    security=STAFF_SECURITY,
    errors=(404,),
)
@arguments(HistoryQuery, location="query")
@response(200, HistorySchema)
def history(args: dict[str, Any], site: str) -> service.History:
    site_obj = _staff_site(site)
    kind = CounterKind(args["kind"]) if args["kind"] else None
    return service.counter_history(site=site_obj, target=args["target"], kind=kind, days=args["days"])


@badges.get("/<site>/<kind>.svg")
@_read_limit()
@doc("A shields-style badge, e.g. 'Followers | 1.2k'", tags=BADGE_TAGS, errors=(404,))
@arguments(BadgeQuery, location="query")
@response(200, "image/svg+xml")
@alt_response(304)
def badge_svg(args: dict[str, Any], site: str, kind: str) -> Response:
    def render(text: service.BadgeText) -> _BadgeAnswer:
        svg = render_svg(label=text.label, message=text.message, color=text.color, style=args["style"])
        return _badge_answer(
            ["svg", args["style"], text.label, text.message, text.color], svg, "image/svg+xml"
        )

    return _cacheable(_answered(site, kind, "svg", args, render))


@badges.get("/<site>/<kind>.json")
@_read_limit()
@doc(
    "The same badge as shields' endpoint JSON, for img.shields.io/endpoint?url=...",
    tags=BADGE_TAGS,
    errors=(404,),
)
@arguments(BadgeQuery, location="query")
@response(200, BadgeEndpointSchema)
@alt_response(304)
def badge_json(args: dict[str, Any], site: str, kind: str) -> Response:
    def render(text: service.BadgeText) -> _BadgeAnswer:
        document = endpoint_json(
            label=text.label, message=text.message, color=text.color, cache_seconds=BADGE_MAX_AGE
        )
        body = current_app.json.dumps(document) + "\n"
        return _badge_answer(["json", text.label, text.message, text.color], body, "application/json")

    return _cacheable(_answered(site, kind, "json", args, render))


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
    site: str,
    kind: str,
    form: str,
    args: dict[str, Any],
    render: Callable[[service.BadgeText], _BadgeAnswer],
) -> _BadgeAnswer:
    """A badge as answered before for this query string while its counter has not changed (its change
    stamp): every page view fetches it, and a repeat then costs one stamp read. Otherwise the count is
    looked up (404 for an unknown site or kind) and the badge rendered."""

    def depends_on() -> list[str]:
        return [caching.counter_key(site, args["target"], parse_kind(kind).value)]

    def build() -> _BadgeAnswer:
        return render(_badge_text(site, kind, args))

    return caching.dependent_cache("badge_answers").get(
        (site, kind, form, request.query_string), depends_on, build
    )


def _cacheable(answer: _BadgeAnswer) -> Response:
    """200 with the badge's content-derived ETag, or 304 when the client already has it."""
    return conditional(
        answer.etag, answer.body, mimetype=answer.mimetype, cache_control=f"public, max-age={BADGE_MAX_AGE}"
    )
