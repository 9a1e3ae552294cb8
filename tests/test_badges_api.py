"""Badges over HTTP: the SVG and shields endpoint JSON for a counter, cached cheaply and always safe.

How a badge is drawn is specified in test_badges.py; here: what the endpoints serve for a counter, their
caching headers, and how few SQL queries they cost (at most 2 per badge, none for a 304).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from sqlalchemy import event

from engagement.extensions import db
from engagement.models import StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site
from tests.services import redis_url
from tests.test_badges import schema_errors

GOLDEN_DIR = Path(__file__).parent / "golden"
SVG = "{http://www.w3.org/2000/svg}"
STAFF_API = "/api/v1/moderation/sites/news/engagement"


@pytest.fixture
def site(app):
    return make_site("news")


@pytest.fixture
def admin(site):
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ops")
    return {"Authorization": f"Bearer {secret}"}


def set_count(client, headers, count, kind="followers", **body):
    response = client.put(
        f"{STAFF_API}/{kind}", json={"source": "x", "count": count, "force": True, **body}, headers=headers
    )
    assert response.status_code == 200, response.json


def follow(client, reader="ann-0123456789abcdef", kind="followers"):
    assert (
        client.post(
            f"/api/v1/sites/news/engagement/{kind}", headers={"X-Engagement-Reader": reader}
        ).status_code
        == 200
    )


def svg_badge(client, kind="followers", site="news", headers=None, **query):
    return client.get(f"/badges/{site}/{kind}.svg", query_string=query, headers=headers or {})


def parse(response):
    return ET.fromstring(response.data)


@contextmanager
def sql_statements():
    """Every statement sent to the database while the block runs (SQLite's BEGIN included)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# --- what the badge says ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "kind", "query", "golden"),
    [
        (1234, "followers", {}, "badge_flat_followers.svg"),
        (
            12345,
            "subscribers",
            {"style": "flat-square", "color": "success"},
            "badge_flat_square_subscribers.svg",
        ),
        (999, "fans", {"style": "social", "label": "fans"}, "badge_social_fans.svg"),
    ],
)
def test_a_counters_badge_is_the_golden_shields_badge_for_its_count(
    client, admin, count, kind, query, golden
):
    set_count(client, admin, count, kind=kind)

    response = svg_badge(client, kind, **query)

    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True) == (GOLDEN_DIR / golden).read_text()


@pytest.mark.parametrize(
    ("kind", "label"), [("fans", "Fans"), ("followers", "Followers"), ("subscribers", "Subscribers")]
)
def test_the_label_defaults_to_the_kind_and_the_count_is_in_shields_metric_form(client, admin, kind, label):
    set_count(client, admin, 999_999, kind=kind)

    svg = parse(svg_badge(client, kind))

    assert svg.get("height") == "20"
    assert svg.get("aria-label") == f"{label}: 1M"
    assert svg.find(f"{SVG}title").text == f"{label}: 1M"


def test_native_and_external_counts_add_up_on_the_badge(client, admin):
    set_count(client, admin, 999)
    follow(client)

    assert parse(svg_badge(client)).get("aria-label") == "Followers: 1k"


def test_a_counter_nobody_touched_shows_zero(client, site):
    assert parse(svg_badge(client, "fans")).get("aria-label") == "Fans: 0"


def test_a_badge_counts_its_own_target(client, admin):
    set_count(client, admin, 42, target="author:jane-doe")

    assert parse(svg_badge(client, target="author:jane-doe")).get("aria-label") == "Followers: 42"
    assert parse(svg_badge(client)).get("aria-label") == "Followers: 0"


def test_a_longer_label_makes_a_wider_badge(client, site):
    short = int(parse(svg_badge(client, label="Fans")).get("width"))
    longer = int(parse(svg_badge(client, label="Fans of the Daily")).get("width"))

    assert longer > short


def test_a_custom_colour_is_drawn_and_a_bogus_one_falls_back(client, site):
    red = svg_badge(client, color="ff0000").get_data(as_text=True)
    bogus = svg_badge(client, color="url(javascript:alert(1))").get_data(as_text=True)

    assert 'fill="#ff0000"' in red
    assert "javascript" not in bogus
    assert 'fill="#939393"' in bogus  # shields' lightgrey


@pytest.mark.parametrize("style", ["flat", "flat-square", "social"])
def test_markup_and_quotes_in_the_label_stay_text(client, site, style):
    label = """<script>alert("x")</script> & 'friends'"""

    response = svg_badge(client, style=style, label=label)

    svg = parse(response)  # well-formed, or this raises
    assert svg.find(f"{SVG}script") is None
    assert svg.get("aria-label") == f"{label}: 0"
    assert b"<script>" not in response.data


def test_a_10kb_label_gives_a_small_well_formed_badge(client, site):
    response = svg_badge(client, label="A" * 10_000)

    svg = parse(response)
    assert len(response.data) < 3000
    assert svg.get("aria-label").endswith("…: 0")


def test_an_unknown_style_is_a_validation_error_but_unknown_parameters_are_ignored(client, site):
    bad_style = svg_badge(client, style="plastic3d")
    extra = svg_badge(client, logo="github", cachebust="2")

    assert bad_style.status_code == 422
    assert "style" in bad_style.json["error"]["fields"]
    assert extra.status_code == 200


@pytest.mark.parametrize(
    ("url", "code"),
    [("/badges/nope/followers.svg", "site_not_found"), ("/badges/news/likes.svg", "unknown_kind")],
)
def test_an_unknown_site_or_kind_is_a_json_404(client, site, url, code):
    response = client.get(url)

    assert response.status_code == 404
    assert response.json["error"]["code"] == code


def test_an_svg_opened_directly_can_run_nothing(client, site):
    response = svg_badge(client)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


# --- shields endpoint JSON ----------------------------------------------------------------------------------


def test_endpoint_json_follows_shields_schema(client, admin):
    set_count(client, admin, 1234, kind="subscribers")

    response = client.get("/badges/news/subscribers.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert schema_errors(response.json) == []
    assert response.json == {
        "schemaVersion": 1,
        "label": "Subscribers",
        "message": "1.2k",
        "color": "blue",
        "cacheSeconds": 300,
    }


def test_endpoint_json_takes_label_and_colour_and_may_be_fetched_from_anywhere(client, site):
    response = client.get("/badges/news/fans.json", query_string={"label": "Likes <3", "color": "#E05D44"})

    assert schema_errors(response.json) == []
    assert (response.json["label"], response.json["color"]) == ("Likes <3", "e05d44")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# --- caching -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/badges/news/followers.svg", "/badges/news/followers.json"])
def test_a_badge_is_cached_for_five_minutes_and_revalidates_to_304(client, site, url):
    first = client.get(url)

    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})

    assert first.headers["Cache-Control"] == "public, max-age=300"
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == "public, max-age=300"


def test_a_weak_etag_from_a_compressing_proxy_still_revalidates(client, site):
    etag = svg_badge(client).headers["ETag"]

    assert svg_badge(client, headers={"If-None-Match": f"W/{etag}"}).status_code == 304


def test_the_etag_changes_with_the_count_and_with_the_query(client, site):
    before = svg_badge(client).headers["ETag"]
    social = svg_badge(client, style="social").headers["ETag"]
    follow(client)

    after = svg_badge(client, headers={"If-None-Match": before})

    assert social != before
    assert after.status_code == 200
    assert after.headers["ETag"] != before
    assert parse(after).get("aria-label") == "Followers: 1"


def test_a_badge_costs_at_most_two_queries_and_a_304_none(client, admin):
    set_count(client, admin, 1234)

    with sql_statements() as first:
        etag = svg_badge(client).headers["ETag"]
    with sql_statements() as revalidated:
        not_modified = svg_badge(client, headers={"If-None-Match": etag})

    assert 1 <= len(first) <= 2
    assert not_modified.status_code == 304
    assert revalidated == []


def test_a_repeated_badge_is_served_without_a_query_until_its_counter_changes(client, site):
    svg_badge(client)
    with sql_statements() as repeated:
        svg_badge(client)
    follow(client)
    with sql_statements() as after_change:
        response = svg_badge(client)

    assert repeated == []
    assert 1 <= len(after_change) <= 2
    assert parse(response).get("aria-label") == "Followers: 1"


def test_without_redis_another_worker_on_the_host_sees_a_change_at_once(make_app):
    # Two apps on one stamps file: what two gunicorn workers of one host are.
    worker_a, worker_b = make_app(), make_app()
    with worker_a.app_context():
        make_site("news")
    badge_a, writer_b = worker_a.test_client(), worker_b.test_client()
    etag = svg_badge(badge_a).headers["ETag"]
    with worker_a.app_context(), sql_statements() as cached:
        assert svg_badge(badge_a, headers={"If-None-Match": etag}).status_code == 304

    follow(writer_b)
    response = svg_badge(badge_a, headers={"If-None-Match": etag})

    assert cached == []
    assert response.status_code == 200
    assert parse(response).get("aria-label") == "Followers: 1"


@pytest.mark.redis
def test_with_redis_every_worker_sees_a_change_at_once(make_app):
    url = redis_url()
    redis.Redis.from_url(url).flushdb()
    worker_a, worker_b = make_app(REDIS_URL=url), make_app(REDIS_URL=url)
    with worker_a.app_context():
        make_site("news")
    badge_a, writer_b = worker_a.test_client(), worker_b.test_client()
    etag = svg_badge(badge_a).headers["ETag"]
    with worker_a.app_context(), sql_statements() as cached:
        assert svg_badge(badge_a, headers={"If-None-Match": etag}).status_code == 304

    follow(writer_b)
    response = svg_badge(badge_a, headers={"If-None-Match": etag})

    assert cached == []
    assert response.status_code == 200
    assert parse(response).get("aria-label") == "Followers: 1"


def test_an_unreachable_redis_costs_queries_not_badges(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        make_site("news")
    client = app.test_client()

    follow(client)
    first = svg_badge(client)
    second = svg_badge(client, headers={"If-None-Match": first.headers["ETag"]})

    assert parse(first).get("aria-label") == "Followers: 1"
    assert second.status_code == 304
