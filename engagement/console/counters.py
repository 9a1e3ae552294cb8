"""The counters page of a site: each kind's value as readers see it, split into native and external, each
source's last value and staleness, a push form per kind, and the growth chart with its table.

Everything goes through the counters service and the checks the staff API applies
(``engagement.staff.access.site_in_scope``: 404 for an unknown site, 403 outside a moderator's sites); a
push is validated by the API PUT's own ``PushCountSchema``, so a field's message here is the API's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

from flask import Response, redirect, request, url_for
from markupsafe import Markup
from marshmallow import EXCLUDE, Schema, ValidationError, pre_load

from engagement import clock
from engagement.console import auth, chart
from engagement.console.blueprint import bp, page
from engagement.console.feeds import feed_rows, synced_notice
from engagement.console.queue import relative_time
from engagement.counters import service
from engagement.counters.schemas import PushCountSchema
from engagement.errors import BadRequest, Conflict, NotFound
from engagement.fields import DEFAULT_TARGET, target_field
from engagement.models import CounterKind, Site
from engagement.staff import access

KIND_LABELS = {
    CounterKind.FANS.value: "Fans",
    CounterKind.FOLLOWERS.value: "Followers",
    CounterKind.SUBSCRIBERS.value: "Subscribers",
}
DAY_CHOICES = (30, 90, 365)
DEFAULT_DAYS = 30
# The target picker lists this many targets that have counters; any other is reached by its name.
MAX_LISTED_TARGETS = 200
# Typed digits become a number for the API's strict Integer field (so a range error reads as the API's);
# anything longer stays text and is "Not a valid integer.", without converting a megabyte of digits.
_WHOLE_NUMBER = re.compile(r"[+-]?\d{1,40}")
PUSH_FIELDS = ("source", "count", "force")


class PushForm(PushCountSchema):
    """The staff API PUT's body as a form: the same fields, rules and messages. The form sends text, so a
    typed whole number is read as one; blanks are missing fields; the CSRF token rides along."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def read_form_text(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        typed = {
            name: value.strip() for name, value in data.items() if isinstance(value, str) and value.strip()
        }
        count = typed.get("count")
        if count is not None and _WHOLE_NUMBER.fullmatch(count):
            typed["count"] = int(count)
        return typed


class TargetQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    target = target_field()


@dataclass(frozen=True)
class KindPanel:
    """One kind as the page shows it: its state, and its push form's typed values, errors and refusal."""

    kind: str
    label: str
    state: service.CounterState
    typed: dict[str, str]
    errors: dict[str, list[str]]
    refusal: str | None  # a 409: a suspicious drop or an older observation, refused by the service


@dataclass(frozen=True)
class FailedPush:
    """A push form sent back: what was typed, the fields' messages (422) or the service's refusal (409)."""

    kind: str
    typed: dict[str, str]
    errors: dict[str, Any]
    refusal: str | None


@dataclass(frozen=True)
class TableRow:
    """One date of the table: each kind's value at its end."""

    day: date
    values: dict[str, int]


@dataclass(frozen=True)
class Growth:
    """The chart and the table of the same numbers; ``every`` says which days the table keeps."""

    svg: Markup
    rows: list[TableRow]
    every: str


@bp.get("/sites/<slug>/counters")
def counters_page(slug: str) -> Response:
    site = _site(slug)
    target = _target(request.args)
    pushed = request.args.get("pushed")
    notice = f"{KIND_LABELS[pushed]}: the new value is saved." if pushed in KIND_LABELS else None
    return _page(site, target=target, days=_days(request.args), notice=notice)


@bp.post("/sites/<slug>/counters/<kind>")
def push_counter(slug: str, kind: str) -> Response:
    site = _site(slug)
    if kind not in KIND_LABELS:  # parse_kind's message would quote the URL on a staff page
        raise NotFound("unknown_kind", "There is no such counter.")
    counter_kind = CounterKind(kind)
    target = _target(request.form)
    days = _days(request.form)
    typed = {name: request.form.get(name, "") for name in PUSH_FIELDS}

    def refused(status: int, errors: dict[str, Any], refusal: str | None) -> Response:
        failed = FailedPush(kind, typed, errors, refusal)
        return _page(site, target=target, days=days, status=status, failed=failed)

    try:
        push = PushForm().load(request.form.to_dict())
    except ValidationError as error:
        return refused(422, error.messages, None)
    try:
        service.push_external_count(site=site, kind=counter_kind, **push)
    except Conflict as conflict:
        return refused(409, {}, conflict.message)
    back = url_for("console.counters_page", slug=site.slug, target=target, days=days, pushed=kind)
    return redirect(f"{back}#{kind}", 303)


# --- shaping -----------------------------------------------------------------------------------------


def _page(
    site: Site,
    *,
    target: str,
    days: int,
    status: int = 200,
    notice: str | None = None,
    failed: FailedPush | None = None,
) -> Response:
    counters = service.get_engagement(site=site, target=target, reader=None).counters
    panels = []
    for kind, label in KIND_LABELS.items():
        push = failed if failed is not None and failed.kind == kind else FailedPush(kind, {}, {}, None)
        panels.append(KindPanel(kind, label, counters[kind], push.typed, push.errors, push.refusal))
    targets = service.counter_targets(site=site, limit=MAX_LISTED_TARGETS)
    if target not in targets:
        targets = [target, *targets]
    history = service.counter_history(site=site, target=target, kind=None, days=days)
    feeds = feed_rows(site)
    return page(
        "console/counters.html",
        status=status,
        site=site,
        target=target,
        targets=targets,
        days=days,
        day_choices=DAY_CHOICES,
        panels=panels,
        growth=growth(history, target=target),
        stale_after_hours=site.settings.stale_after_hours,
        notice=notice or synced_notice(feeds),
        feeds=feeds,
        manages_feeds=auth.current_principal().is_admin,
        ago=partial(relative_time, now=clock.now()),
    )


def growth(history: service.History, *, target: str) -> Growth:
    """The chart of every kind's daily values, and the table of the same numbers: every day for a month,
    every week for a quarter, the end of every month for a year (the last day always included)."""
    series = {kind: [(d.day, d.count) for d in days] for kind, days in history.series.items()}
    labels = {kind: label for kind, label in KIND_LABELS.items() if kind in series}
    first = next(iter(series.values()), [])
    span = f"{first[0][0]} to {first[-1][0]}" if first else "no days"
    latest = ", ".join(f"{label} {series[kind][-1][1]}" for kind, label in labels.items() if series[kind])
    svg = chart.growth_chart(
        chart.lines_of(series, labels),
        title=f"Growth of {target} over the last {history.days} days",
        description=f"One line per kind, daily values from {span}. Latest: {latest or 'none'}. "
        "The table below has the numbers.",
        id_prefix="growth",
    )
    days = [day for day, _ in first]
    kept, every = table_days(days, history.days)
    by_day = {kind: dict(points) for kind, points in series.items()}
    rows = [TableRow(day, {kind: by_day[kind][day] for kind in labels}) for day in kept]
    return Growth(svg=svg, rows=rows, every=every)


def table_days(days: list[date], span: int) -> tuple[list[date], str]:
    """Which of ``days`` the table shows, newest first, and what that choice is called."""
    if span <= 31:
        kept, every = days, "day"
    elif span <= 92:
        kept, every = days[::-1][::7][::-1], "week"
    else:
        kept, every = [d for d in days if (d + timedelta(days=1)).month != d.month or d == days[-1]], "month"
    return kept[::-1], every


# --- helpers -----------------------------------------------------------------------------------------


def _site(slug: str) -> Site:
    """The site, if the signed-in principal may act on its counters (the staff API's check). The 404 does
    not repeat the slug: a link cannot put words on a staff page."""
    try:
        return access.site_in_scope(auth.current_principal(), slug)
    except NotFound:
        raise NotFound("site_not_found", "There is no such site.") from None


def _target(values: Any) -> str:
    """The target named in the query or form (``site`` when absent); 400 with the API's message when it
    is not a target's name."""
    try:
        return TargetQuery().load({"target": values.get("target") or DEFAULT_TARGET})["target"]
    except ValidationError as error:
        raise BadRequest("invalid_target", " ".join(error.messages["target"])) from None


def _days(values: Any) -> int:
    """30, 90 or 365 from the links; anything else shows the default rather than an error."""
    days = values.get("days", type=int)
    return days if days in DAY_CHOICES else DEFAULT_DAYS
