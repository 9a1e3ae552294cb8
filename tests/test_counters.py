"""Fan, follower and subscriber counters: reader likes and follows, staff pushes, staleness, history, CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engagement.caching import dependent_cache
from engagement.clock import isoformat_z
from engagement.extensions import db
from engagement.models import Counter, CounterHistory, StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site

API = "/api/v1/sites/news/engagement"
STAFF_API = "/api/v1/moderation/sites/news/engagement"
ANN = "ann-0123456789abcdef"
BOB = "bob-0123456789abcdef"


@pytest.fixture
def site(app):
    return make_site("news", origins=["https://news.example"])


@pytest.fixture
def admin(site):
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ops")
    return {"Authorization": f"Bearer {secret}"}


def as_reader(reader):
    return {"X-Engagement-Reader": reader}


def follow(client, reader=ANN, kind="followers", **query):
    return client.post(f"{API}/{kind}", headers=as_reader(reader), query_string=query)


def unfollow(client, reader=ANN, kind="followers", **query):
    return client.delete(f"{API}/{kind}", headers=as_reader(reader), query_string=query)


def engagement(client, **query):
    return client.get(API, query_string=query).json


def push(client, headers, kind="followers", **body):
    return client.put(f"{STAFF_API}/{kind}", json={"source": "x", **body}, headers=headers)


def badge_message(client, kind="followers", **query):
    return client.get(f"/badges/news/{kind}.json", query_string=query).json["message"]


# --- reading ---------------------------------------------------------------------------------------------


def test_a_counter_nobody_touched_reads_zero_and_creates_nothing(client, site):
    body = engagement(client)

    assert body["target"] == "site"
    assert set(body["counters"]) == {"fans", "followers", "subscribers"}
    assert body["counters"]["fans"] == {
        "count": 0,
        "display": "0",
        "native": 0,
        "external": 0,
        "sources": [],
        "updated_at": None,
        "stale": False,
    }
    assert "reader" not in body
    assert db.session.scalar(select(func.count()).select_from(Counter)) == 0


def test_the_reader_part_is_present_only_when_the_header_is_sent(client, site):
    follow(client, ANN)

    assert "reader" not in engagement(client)
    mine = client.get(API, headers=as_reader(ANN)).json["reader"]
    theirs = client.get(API, headers=as_reader(BOB)).json["reader"]
    assert mine == {"fans": False, "followers": True}
    assert theirs == {"fans": False, "followers": False}


def test_the_reader_state_has_its_own_private_url(client, site):
    follow(client, ANN)

    mine = client.get(f"{API}/reader", headers=as_reader(ANN))
    theirs = client.get(f"{API}/reader", headers=as_reader(BOB), query_string={"target": "section:world"})
    missing = client.get(f"{API}/reader")

    assert mine.json == {"target": "site", "reader": {"fans": False, "followers": True}}
    assert mine.headers["Cache-Control"] == "private, no-cache"
    assert theirs.json == {"target": "section:world", "reader": {"fans": False, "followers": False}}
    assert (missing.status_code, missing.json["error"]["code"]) == (400, "missing_reader")


def test_the_shared_counts_are_public_and_revalidate_with_their_etag(client, site):
    first = client.get(API)
    etag = first.headers["ETag"]

    again = client.get(API, headers={"If-None-Match": etag})

    assert first.headers["Cache-Control"] == "public, no-cache"
    assert "X-Engagement-Reader" in first.headers["Vary"]
    assert "Retry-After" not in first.headers
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.data


def test_a_follow_changes_the_shared_answer_and_its_etag_at_once(client, site):
    etag = client.get(API).headers["ETag"]

    follow(client, ANN)
    changed = client.get(API, headers={"If-None-Match": etag})

    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.json["counters"]["followers"]["count"] == 1


def test_the_old_shape_with_the_reader_header_still_answers_privately(client, site):
    follow(client, ANN, kind="fans")

    response = client.get(API, headers=as_reader(ANN))

    assert response.json["reader"] == {"fans": True, "followers": False}
    assert response.json["counters"]["fans"]["count"] == 1
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "X-Engagement-Reader" in response.headers["Vary"]


def test_a_kept_answer_turns_stale_when_its_source_does_without_a_write(client, admin, clock):
    push(client, admin, count=1234)
    for _ in range(2):  # the first also looks the site up, in the transaction: served, not kept
        db.session.remove()  # as the end of its own app context would: the next one keeps what it reads
        fresh = client.get(API)
    db.session.remove()
    assert len(dependent_cache("engagement_answers")._entries) == 1
    clock.advance(hours=49)

    later = client.get(API, headers={"If-None-Match": fresh.headers["ETag"]})

    assert fresh.json["counters"]["followers"]["stale"] is False
    assert later.status_code == 200 and later.json["counters"]["followers"]["stale"] is True


def test_unknown_site_is_404_site_not_found(client, site):
    response = client.get("/api/v1/sites/nope/engagement")

    assert response.status_code == 404
    assert response.json["error"]["code"] == "site_not_found"


@pytest.mark.parametrize(
    "target", ["Site", "author: jane", "a:b:c", "author:", ":x", "section/world", "x" * 65, "jane@doe"]
)
def test_a_target_that_is_not_a_short_slug_is_refused(client, site, target):
    response = client.get(API, query_string={"target": target})

    assert response.status_code == 422
    assert "target" in response.json["error"]["fields"]


# --- likes and follows -------------------------------------------------------------------------------------


def test_following_answers_with_the_new_state(client, site):
    response = follow(client, ANN)

    assert response.status_code == 200
    body = response.json
    assert body["counters"]["followers"]["count"] == 1
    assert body["counters"]["followers"]["native"] == 1
    assert body["counters"]["followers"]["updated_at"] == "2026-05-07T12:00:00Z"
    assert body["reader"] == {"fans": False, "followers": True}


def test_the_same_reader_following_fifty_times_counts_once(client, site):
    for _ in range(50):
        assert follow(client, ANN).status_code == 200

    assert engagement(client)["counters"]["followers"]["count"] == 1


def test_unfollowing_brings_the_count_back_exactly_and_repeating_it_is_harmless(client, site):
    follow(client, ANN)
    follow(client, BOB)

    for _ in range(3):
        body = unfollow(client, ANN).json
    assert body["counters"]["followers"]["count"] == 1
    assert body["reader"]["followers"] is False
    assert unfollow(client, BOB).json["counters"]["followers"]["count"] == 0


def test_unfollowing_a_counter_that_does_not_exist_creates_nothing(client, site):
    assert unfollow(client, ANN).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Counter)) == 0


def test_likes_and_follows_are_separate_counters(client, site):
    follow(client, ANN, kind="fans")

    body = engagement(client)["counters"]
    assert (body["fans"]["count"], body["followers"]["count"]) == (1, 0)


def test_each_target_is_counted_separately(client, site):
    follow(client, ANN, target="author:jane-doe")
    follow(client, BOB, target="author:jane-doe")
    follow(client, ANN)

    assert engagement(client, target="author:jane-doe")["counters"]["followers"]["count"] == 2
    assert engagement(client)["counters"]["followers"]["count"] == 1
    assert engagement(client, target="section:world")["counters"]["followers"]["count"] == 0


def test_a_reader_action_needs_a_well_formed_reader_id(client, site):
    missing = client.post(f"{API}/followers")
    malformed = client.post(f"{API}/followers", headers=as_reader("short"))

    assert (missing.status_code, missing.json["error"]["code"]) == (400, "missing_reader")
    assert (malformed.status_code, malformed.json["error"]["code"]) == (400, "invalid_reader")


@pytest.mark.parametrize("kind", ["subscribers", "likes"])
def test_only_fans_and_followers_are_one_click_actions(client, site, kind):
    response = follow(client, ANN, kind=kind)

    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_kind"


def test_a_write_from_an_origin_the_site_does_not_allow_is_refused(client, site):
    foreign = client.post(f"{API}/fans", headers={**as_reader(ANN), "Origin": "https://evil.example"})
    own = client.post(f"{API}/fans", headers={**as_reader(ANN), "Origin": "https://news.example"})

    assert (foreign.status_code, foreign.json["error"]["code"]) == (403, "origin_not_allowed")
    assert own.status_code == 200
    assert own.headers["Access-Control-Allow-Origin"] == "https://news.example"


def test_reader_actions_are_rate_limited_per_ip_across_like_and_unlike(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_REACTION="3 per minute")
    with app.app_context():
        make_site("news")
    client = app.test_client()
    here = {"REMOTE_ADDR": "203.0.113.7"}

    statuses = [
        client.post(f"{API}/fans", headers=as_reader(ANN), environ_base=here).status_code,
        client.delete(f"{API}/fans", headers=as_reader(ANN), environ_base=here).status_code,
        client.post(f"{API}/fans", headers=as_reader(ANN), environ_base=here).status_code,
    ]
    limited = client.delete(f"{API}/fans", headers=as_reader(ANN), environ_base=here)
    elsewhere = client.post(
        f"{API}/fans", headers=as_reader(BOB), environ_base={"REMOTE_ADDR": "198.51.100.1"}
    )

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.json["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    assert elsewhere.status_code == 200


# --- external counts pushed by staff -----------------------------------------------------------------------


def test_a_pushed_count_adds_to_the_native_one_and_is_listed_by_source(client, admin):
    follow(client, ANN)

    response = push(client, admin, count=1233, source="x")

    assert response.status_code == 200
    assert response.json["target"] == "site"
    assert response.json["kind"] == "followers"
    counter = engagement(client)["counters"]["followers"]
    assert counter == response.json["counter"]
    assert (counter["count"], counter["display"], counter["native"], counter["external"]) == (
        1234,
        "1.2k",
        1,
        1233,
    )
    assert counter["sources"] == [
        {"source": "x", "count": 1233, "observed_at": "2026-05-07T12:00:00Z", "stale": False}
    ]


def test_external_is_the_sum_of_the_last_value_of_each_source(client, admin):
    push(client, admin, kind="fans", source="facebook", count=1000)
    push(client, admin, kind="fans", source="instagram", count=300)
    push(client, admin, kind="fans", source="facebook", count=1100)

    counter = engagement(client)["counters"]["fans"]
    assert counter["external"] == 1400
    assert [(s["source"], s["count"]) for s in counter["sources"]] == [("facebook", 1100), ("instagram", 300)]


def test_a_push_of_zero_is_refused_and_the_badge_keeps_its_last_value(client, admin):
    push(client, admin, count=1234, source="youtube", kind="subscribers")
    assert badge_message(client, "subscribers") == "1.2k"

    response = push(client, admin, count=0, source="youtube", kind="subscribers")

    assert response.status_code == 409
    assert response.json["error"]["code"] == "suspicious_drop"
    assert badge_message(client, "subscribers") == "1.2k"
    assert engagement(client)["counters"]["subscribers"]["external"] == 1234


def test_a_first_push_of_zero_is_refused_too(client, admin):
    response = push(client, admin, count=0)

    assert response.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Counter)) == 0


def test_a_drop_of_more_than_half_is_refused_but_a_smaller_one_is_accepted(client, admin):
    push(client, admin, count=1000)

    refused = push(client, admin, count=499)
    accepted = push(client, admin, count=500)

    assert (refused.status_code, refused.json["error"]["code"]) == (409, "suspicious_drop")
    assert accepted.status_code == 200
    assert accepted.json["counter"]["external"] == 500


def test_the_largest_accepted_drop_is_a_site_setting(client, app):
    make_site("news", max_drop_share=0.1)
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ops")
    headers = {"Authorization": f"Bearer {secret}"}
    push(client, headers, count=1000)

    assert push(client, headers, count=899).status_code == 409
    assert push(client, headers, count=900).status_code == 200


@pytest.mark.parametrize("count", [0, 1])
def test_a_forced_push_changes_the_count(client, admin, count):
    push(client, admin, count=1234)

    response = push(client, admin, count=count, force=True)

    assert response.status_code == 200
    assert engagement(client)["counters"]["followers"]["count"] == count
    assert badge_message(client) == str(count)


def test_an_observation_older_than_the_stored_one_is_ignored(client, admin, clock):
    push(client, admin, count=1200)
    earlier = isoformat_z(clock.current - timedelta(hours=1))

    response = push(client, admin, count=1100, observed_at=earlier)

    assert response.status_code == 409
    assert response.json["error"]["code"] == "stale_observation"
    assert engagement(client)["counters"]["followers"]["external"] == 1200


def test_an_observation_time_is_stored_as_given_and_read_as_utc_without_an_offset(client, admin):
    push(client, admin, count=10, source="x", observed_at="2026-05-07T11:00:00")
    push(client, admin, count=20, source="youtube", observed_at="2026-05-07T13:30:00+02:00")

    sources = engagement(client)["counters"]["followers"]["sources"]
    assert [s["observed_at"] for s in sources] == ["2026-05-07T11:00:00Z", "2026-05-07T11:30:00Z"]


def test_an_observation_from_the_future_is_refused(client, admin, clock):
    response = push(client, admin, count=10, observed_at=isoformat_z(clock.current + timedelta(hours=1)))

    assert response.status_code == 422
    assert "observed_at" in response.json["error"]["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"count": -1}, "count"),
        ({"count": "12"}, "count"),
        ({"count": 1, "source": "You Tube"}, "source"),
        ({"count": 1, "source": None}, "source"),
        ({"count": 1, "target": "Site"}, "target"),
        ({"count": 1, "extra": True}, "extra"),
    ],
)
def test_a_malformed_push_is_a_validation_error(client, admin, body, field):
    response = client.put(f"{STAFF_API}/followers", json={"source": "x", **body}, headers=admin)

    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_a_push_for_an_unknown_kind_is_404(client, admin):
    response = push(client, admin, kind="likes", count=1)

    assert (response.status_code, response.json["error"]["code"]) == (404, "unknown_kind")


def test_repeating_the_same_push_changes_nothing(client, admin, clock):
    observed = isoformat_z(clock.current)
    push(client, admin, count=100, observed_at=observed)
    clock.advance(minutes=10)

    again = push(client, admin, count=100, observed_at=observed)

    assert again.status_code == 200
    assert again.json["counter"]["updated_at"] == observed


# --- staleness ---------------------------------------------------------------------------------------------


def test_a_counter_is_stale_after_the_window_but_still_shows_its_last_value(client, admin, clock):
    push(client, admin, count=1234)
    clock.advance(hours=47)
    assert engagement(client)["counters"]["followers"]["stale"] is False

    clock.advance(hours=2)

    counter = engagement(client)["counters"]["followers"]
    assert counter["stale"] is True
    assert counter["sources"][0]["stale"] is True
    assert counter["count"] == 1234
    assert badge_message(client) == "1.2k"


def test_a_fresh_push_makes_a_stale_counter_fresh_again(client, admin, clock):
    push(client, admin, count=1234)
    clock.advance(hours=49)

    push(client, admin, count=1240)

    assert engagement(client)["counters"]["followers"]["stale"] is False


def test_staleness_follows_the_newest_source_and_flags_each_old_one(client, admin, clock):
    push(client, admin, count=100, source="x")
    clock.advance(hours=40)
    push(client, admin, count=200, source="threads")
    clock.advance(hours=10)

    counter = engagement(client)["counters"]["followers"]

    assert counter["stale"] is False
    assert {s["source"]: s["stale"] for s in counter["sources"]} == {"threads": False, "x": True}


def test_the_stale_window_is_a_site_setting_and_zero_turns_it_off(client, app, clock):
    make_site("news", stale_after_hours=0)
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="ops")
    push(client, {"Authorization": f"Bearer {secret}"}, count=5)

    clock.advance(days=400)

    assert engagement(client)["counters"]["followers"]["stale"] is False


def test_native_counts_alone_never_go_stale(client, site, clock):
    follow(client, ANN)
    clock.advance(days=30)

    assert engagement(client)["counters"]["followers"]["stale"] is False


# --- history -----------------------------------------------------------------------------------------------


def history(client, headers, **query):
    response = client.get(f"{STAFF_API}/history", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_history_keeps_one_row_per_counter_and_day_with_the_days_last_value(client, admin, clock):
    push(client, admin, count=1000)
    follow(client, ANN)
    follow(client, BOB)
    clock.advance(days=1)
    push(client, admin, count=1100)
    unfollow(client, BOB)

    rows = db.session.execute(select(CounterHistory.day, CounterHistory.count).order_by(CounterHistory.day))
    assert [(day.isoformat(), count) for day, count in rows] == [("2026-05-07", 1002), ("2026-05-08", 1101)]


def test_history_is_a_daily_series_that_carries_values_over_quiet_days(client, admin, clock):
    push(client, admin, count=1000)
    clock.advance(days=2)
    follow(client, ANN)
    clock.advance(days=1)

    body = history(client, admin, kind="followers", days=5)

    assert body["target"] == "site"
    assert body["days"] == 5
    assert body["series"]["followers"] == [
        {"day": "2026-05-06", "count": 0, "native": 0, "external": 0},
        {"day": "2026-05-07", "count": 1000, "native": 0, "external": 1000},
        {"day": "2026-05-08", "count": 1000, "native": 0, "external": 1000},
        {"day": "2026-05-09", "count": 1001, "native": 1, "external": 1000},
        {"day": "2026-05-10", "count": 1001, "native": 1, "external": 1000},
    ]


def test_history_starts_from_the_value_before_its_window(client, admin, clock):
    push(client, admin, count=1000)
    clock.advance(days=30)

    body = history(client, admin, kind="followers", days=2)

    assert [d["count"] for d in body["series"]["followers"]] == [1000, 1000]


def test_history_without_a_kind_has_every_kind_and_defaults_to_ninety_days(client, admin):
    follow(client, ANN, kind="fans", target="author:jane-doe")

    body = history(client, admin, target="author:jane-doe")

    assert set(body["series"]) == {"fans", "followers", "subscribers"}
    assert len(body["series"]["fans"]) == 90
    assert body["series"]["fans"][-1] == {"day": "2026-05-07", "count": 1, "native": 1, "external": 0}
    assert {d["count"] for d in body["series"]["subscribers"]} == {0}


def test_history_days_are_bounded(client, admin):
    response = client.get(f"{STAFF_API}/history", query_string={"days": 0}, headers=admin)

    assert response.status_code == 422
    assert "days" in response.json["error"]["fields"]


# --- who may push and read history --------------------------------------------------------------------------


@pytest.fixture
def tokens(site):
    make_site("other")
    return {
        "none": {},
        "other site's moderator": create_token(role=StaffRole.MODERATOR, site_slugs=["other"], label="o")[1],
        "this site's moderator": create_token(role=StaffRole.MODERATOR, site_slugs=["news"], label="n")[1],
        "admin": create_token(role=StaffRole.ADMIN, site_slugs=[], label="a")[1],
    }


STAFF_REQUESTS = {
    "push": ("PUT", f"{STAFF_API}/followers", {"source": "x", "count": 5}),
    "history": ("GET", f"{STAFF_API}/history", None),
}


@pytest.mark.parametrize("request_name", sorted(STAFF_REQUESTS))
@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("none", 401, "unauthorized"),
        ("other site's moderator", 403, "forbidden"),
        ("this site's moderator", 200, None),
        ("admin", 200, None),
    ],
)
def test_staff_endpoints_need_a_token_for_this_site(client, tokens, request_name, who, status, code):
    method, url, body = STAFF_REQUESTS[request_name]
    headers = {"Authorization": f"Bearer {tokens[who]}"} if tokens[who] else {}

    response = client.open(url, method=method, json=body, headers=headers)

    assert response.status_code == status
    if code:
        assert response.json["error"]["code"] == code


def test_a_staff_request_for_an_unknown_site_is_404_once_authenticated(client, admin):
    response = client.put(
        "/api/v1/moderation/sites/nope/engagement/followers", json={"source": "x", "count": 1}, headers=admin
    )

    assert (response.status_code, response.json["error"]["code"]) == (404, "site_not_found")


# --- CLI ---------------------------------------------------------------------------------------------------


def set_count(runner, *args):
    return runner.invoke(args=["engagement", "set-count", *args])


def test_set_count_records_a_platforms_count(runner, client, site):
    result = set_count(runner, "news", "subscribers", "12345", "--source", "youtube")

    assert result.exit_code == 0, result.output
    assert "12345" in result.output
    counter = engagement(client)["counters"]["subscribers"]
    assert counter["sources"][0]["source"] == "youtube"
    assert counter["count"] == 12345
    assert badge_message(client, "subscribers") == "12k"


def test_set_count_takes_a_target(runner, client, site):
    set_count(runner, "news", "followers", "42", "--source", "x", "--target", "author:jane-doe")

    assert engagement(client, target="author:jane-doe")["counters"]["followers"]["count"] == 42
    assert engagement(client)["counters"]["followers"]["count"] == 0


def test_set_count_refuses_a_suspicious_drop_unless_forced(runner, client, site):
    set_count(runner, "news", "fans", "5000", "--source", "facebook")

    refused = set_count(runner, "news", "fans", "0", "--source", "facebook")
    forced = set_count(runner, "news", "fans", "0", "--source", "facebook", "--force")

    assert refused.exit_code != 0
    assert "suspicious_drop" in refused.output
    assert forced.exit_code == 0, forced.output
    assert engagement(client)["counters"]["fans"]["count"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "fans", "1", "--source", "x"], "site_not_found"),
        (["news", "likes", "1", "--source", "x"], "likes"),
        (["news", "fans", "1", "--source", "Not A Source"], "source"),
        (["news", "fans", "1"], "--source"),
    ],
)
def test_set_count_explains_what_is_wrong(runner, site, args, message):
    result = set_count(runner, *args)

    assert result.exit_code != 0
    assert message in result.output
