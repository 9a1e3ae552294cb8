"""Counters that update themselves: feeds created through the moderation API, fetched by the worker from
a fake platform over the wire, through the push's rules, with their health, back-off and mail."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import select

from engagement.counters import feeds
from engagement.counters.platforms import PLATFORMS
from engagement.counters.platforms.base import Fetched, Platform, Request, field, get_json, whole_number
from engagement.extensions import db
from engagement.models import CounterFeed, CounterKind, OutboxMessage, StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site
from tests.fakes.platforms import Answer, FakePlatforms, mastodon
from tests.fakes.platforms import platforms as platforms  # the fixture

API = "/api/v1/moderation/sites/news/counter-feeds"
KEY = "sk-live-0123456789abcdef"  # a credential that must never show anywhere


class KeyedPlatform(Platform):
    """A platform needing an API key (sent as a header), for the credential tests: Mastodon's shape."""

    name = "keyed"
    label = "Keyed"
    kinds: ClassVar = (CounterKind.SUBSCRIBERS,)
    credentials = ("api_key",)
    account_hint = "a user name"
    default_base_url = "https://keyed.example"

    def fetch(self, client: httpx.Client, request: Request) -> Fetched:
        body = get_json(
            client,
            f"{request.base_url}/api/v1/accounts/lookup",
            params={"acct": request.account},
            headers={"X-Api-Key": request.credentials["api_key"]},
            error_message=lambda error: error.get("error") if isinstance(error, dict) else None,
        )
        return Fetched(whole_number(field(body, "followers_count"), "followers_count"))


@pytest.fixture
def app(make_app: Any, platforms: FakePlatforms) -> Iterator[Any]:
    urls = {"mastodon": platforms.url, "keyed": platforms.url}
    app = make_app(PLATFORM_URLS=urls, PLATFORMS_ALLOW_PRIVATE=True)
    PLATFORMS["keyed"] = KeyedPlatform()
    with app.app_context():
        make_site("news", notify_emails=["desk@news.example"], stale_after_hours=48)
        yield app
    PLATFORMS.pop("keyed", None)


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(role=StaffRole.ADMIN, site_slugs=[], label='ada')[1]}"}


def new_feed(client: Any, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    body = {
        "target": "site",
        "kind": "followers",
        "platform": "mastodon",
        "account": "newsroom@mastodon.social",
        **body,
    }
    made = client.post(API, json=body, headers=admin)
    assert made.status_code == 201, made.json
    return made.json


def counter(client: Any, kind: str = "followers") -> dict[str, Any]:
    return client.get("/api/v1/sites/news/engagement").json["counters"][kind]


def test_a_feed_syncs_into_its_counter_through_the_push_rules(client, admin, platforms):
    mastodon(platforms, {"newsroom": 12_345})
    feed = new_feed(client, admin)
    assert feed["health"] == "pending" and feed["next_attempt_at"] is not None
    assert feeds.sync_due() == feeds.SyncReport(synced=1)

    followers = counter(client)
    assert followers["external"] == 12_345
    assert followers["sources"][0]["source"] == f"mastodon:{feed['id']}"
    got = client.get(f"{API}/{feed['id']}", headers=admin).json
    assert (got["health"], got["last_count"], got["consecutive_failures"]) == ("ok", 12_345, 0)
    assert feeds.sync_due() == feeds.SyncReport()  # not due again before its interval
    history = client.get(
        "/api/v1/moderation/sites/news/engagement/history?kind=followers&days=1", headers=admin
    )
    assert history.json["series"]["followers"][-1]["external"] == 12_345


def test_a_zero_from_a_broken_account_is_kept_out_and_shown(client, admin, platforms, clock):
    accounts = {"newsroom": 5_000}
    mastodon(platforms, accounts)
    feed = new_feed(client, admin)
    feeds.sync_due()
    accounts["newsroom"] = 0
    clock.advance(hours=4)
    assert feeds.sync_due() == feeds.SyncReport(refused=1)
    assert counter(client)["external"] == 5_000
    got = client.get(f"{API}/{feed['id']}", headers=admin).json
    assert got["last_count"] == 0 and "not applied" in got["last_refused"] and got["health"] == "ok"


def test_a_rejected_credential_stops_retries_until_it_changes(client, admin, platforms, clock):
    platforms.queue.append(Answer(401, {"error": "The access token is invalid"}))
    feed = new_feed(
        client, admin, platform="keyed", account="newsroom", kind="subscribers", credentials={"api_key": KEY}
    )
    assert feeds.sync_due() == feeds.SyncReport(failed=1)
    got = client.get(f"{API}/{feed['id']}", headers=admin).json
    assert got["health"] == "needs_credentials" and got["next_attempt_at"] is None
    assert got["last_error"] == "The access token is invalid" and got["last_error_status"] == 401
    clock.advance(days=2)
    assert feeds.sync_due() == feeds.SyncReport() and len(platforms.requests) == 1

    mastodon(platforms, {"newsroom": 77})
    changed = client.patch(f"{API}/{feed['id']}", json={"credentials": {"api_key": "sk-new"}}, headers=admin)
    assert changed.json["needs_credentials"] is False
    assert feeds.sync_due() == feeds.SyncReport(synced=1)
    assert platforms.requests[-1].headers["x-api-key"] == "sk-new"


def test_retry_after_is_honoured_and_failures_back_off(client, admin, platforms, clock):
    feed = new_feed(client, admin)
    start = clock()
    platforms.queue.append(Answer(429, {"error": "Too many requests"}, {"Retry-After": "600"}))
    feeds.sync_due()
    row = db.session.get(CounterFeed, feed["id"])
    assert row.next_attempt_at == start + timedelta(seconds=600)
    clock.advance(seconds=600)
    platforms.queue.append(Answer(200, b"{oops"))
    feeds.sync_due()
    db.session.expire_all()
    row = db.session.get(CounterFeed, feed["id"])
    assert row.consecutive_failures == 2 and row.next_attempt_at == clock() + timedelta(minutes=10)
    assert "not JSON" in row.last_error


def test_a_platform_that_does_not_answer_in_time_is_a_failure(client, admin, platforms, monkeypatch):
    monkeypatch.setattr(feeds, "FETCH_TIMEOUT", 0.3)
    platforms.queue.append(Answer(200, {"followers_count": 1}, delay=1.0))
    feed = new_feed(client, admin)
    assert feeds.sync_due() == feeds.SyncReport(failed=1)
    got = client.get(f"{API}/{feed['id']}", headers=admin).json
    assert got["health"] == "failing" and got["last_error_status"] is None and "in time" in got["last_error"]


def test_a_feed_failing_past_the_stale_window_mails_the_desk_once(client, admin, platforms, clock):
    mastodon(platforms, {})  # the account is gone: 404s
    new_feed(client, admin)
    for _ in range(12):
        feeds.sync_due()
        clock.advance(hours=6)
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.template == "counter_feed_stale")
    ).all()
    assert [m.to_address for m in mails] == ["desk@news.example"]
    assert "Record not found" in mails[0].text_body


def test_two_workers_never_fetch_one_feed_in_the_same_interval(client, admin, platforms):
    mastodon(platforms, {"newsroom": 10})
    feed = new_feed(client, admin)
    seen = db.session.get(CounterFeed, feed["id"]).next_attempt_at
    first = feeds._claim(feed["id"], seen, seen, "mastodon.social")
    second = feeds._claim(feed["id"], seen, seen, "mastodon.social")
    assert first is not None and second is None


def test_a_credential_never_appears_in_an_answer_a_log_or_an_export(client, admin, platforms, caplog):
    platforms.queue.append(Answer(500, {"error": f"echo {KEY}"[:0] + "Internal error"}))
    with caplog.at_level(logging.DEBUG):
        feed = new_feed(
            client,
            admin,
            platform="keyed",
            account="newsroom",
            kind="subscribers",
            credentials={"api_key": KEY},
        )
        feeds.sync_due()
        answers = [
            client.get(API, headers=admin).get_data(as_text=True),
            client.get(f"{API}/{feed['id']}", headers=admin).get_data(as_text=True),
            client.post(f"{API}/{feed['id']}/sync", headers=admin).get_data(as_text=True),
            client.get("/api/v1/moderation/sites/news/export", headers=admin).get_data(as_text=True),
            client.get("/api/v1/moderation/audit?site=news", headers=admin).get_data(as_text=True),
        ]
    assert platforms.requests[0].headers["x-api-key"] == KEY  # it went to the platform, only there
    assert all(KEY not in answer for answer in answers)
    assert KEY not in caplog.text
    stored = db.session.get(CounterFeed, feed["id"]).credentials_encrypted
    assert KEY not in stored and json.loads(feeds.decrypt_secret(stored)) == {"api_key": KEY}


def test_staff_rules_and_bad_input(client, admin, platforms):
    moderator = {
        "Authorization": f"Bearer {create_token(role=StaffRole.MODERATOR, site_slugs=['news'], label='m')[1]}"
    }
    assert (
        client.post(
            API,
            json={"target": "site", "kind": "followers", "platform": "mastodon", "account": "a@b.cd"},
            headers=moderator,
        ).status_code
        == 403
    )
    feed = new_feed(client, admin)
    assert client.get(API, headers=moderator).status_code == 200
    assert client.post(f"{API}/{feed['id']}/sync", headers=moderator).status_code == 200
    for body, field_name in (
        ({"platform": "myspace"}, "platform"),
        ({"kind": "fans"}, "kind"),
        ({"account": "not-an-account"}, "account"),
        ({"platform": "keyed", "kind": "subscribers", "account": "x"}, "credentials"),
        ({"interval_minutes": 5}, "interval_minutes"),
    ):
        base = {"target": "site", "kind": "followers", "platform": "mastodon", "account": "a@b.cd"}
        answer = client.post(API, json={**base, **body}, headers=admin)
        assert answer.status_code == 422 and field_name in answer.json["error"]["fields"], (body, answer.json)
    platforms_listed = client.get(API, headers=admin).json["platforms"]
    assert {
        "name": "mastodon",
        "label": "Mastodon",
        "kinds": ["followers"],
        "credentials": [],
        "account_hint": PLATFORMS["mastodon"].account_hint,
    } in platforms_listed


def test_deleting_a_feed_takes_its_value_out_of_the_counter(client, admin, platforms):
    mastodon(platforms, {"newsroom": 300})
    feed = new_feed(client, admin)
    feeds.sync_due()
    assert counter(client)["external"] == 300
    assert client.delete(f"{API}/{feed['id']}", headers=admin).status_code == 204
    assert counter(client)["external"] == 0


def test_the_cli_syncs_every_feed_once_for_cron(client, admin, platforms, runner):
    mastodon(platforms, {"newsroom": 42})
    new_feed(client, admin)
    feeds.sync_due()
    result = runner.invoke(args=["engagement", "sync-counters", "--once", "--site", "news"])
    assert result.exit_code == 0 and "synced 1" in result.output
    assert len(platforms.requests) == 2


def test_rotating_the_secret_key_keeps_every_stored_secret(client, admin, platforms, make_app, runner):
    feed = new_feed(
        client, admin, platform="keyed", account="newsroom", kind="subscribers", credentials={"api_key": KEY}
    )
    sso = client.post("/api/v1/moderation/sites/news/sso/keys", json={"kid": "k1"}, headers=admin).json[
        "secret"
    ]
    before = db.session.get(CounterFeed, feed["id"]).credentials_encrypted
    db.session.commit()  # the apps below write to the same database

    # The new key alone opens nothing; with the old one beside it, everything; rotate-secrets moves them.
    rotated_app = make_app(
        SECRET_KEY="a-brand-new-secret-key", OLD_SECRET_KEYS=[client.application.config["SECRET_KEY"]]
    )
    with rotated_app.app_context():  # the CLI runs in the innermost app's context
        assert json.loads(feeds.decrypt_secret(before)) == {"api_key": KEY}
        result = rotated_app.test_cli_runner().invoke(args=["engagement", "rotate-secrets"])
        assert result.exit_code == 0, result.output
        assert "re-encrypted 2 secrets" in result.output
    new_only = make_app(SECRET_KEY="a-brand-new-secret-key")
    with new_only.app_context():
        row = db.session.get(CounterFeed, feed["id"])
        assert row.credentials_encrypted != before
        assert json.loads(feeds.decrypt_secret(row.credentials_encrypted)) == {"api_key": KEY}
        from engagement.clock import now
        from engagement.sso.keys import usable_keys

        assert usable_keys(row.site_id, now())[0].key == sso.encode()
    assert feeds.decrypt_secret(before) is not None  # the old app still opens what it stored


def workers_sync(app: Any, workers: int, rounds: int) -> list[feeds.SyncReport]:
    """``workers`` threads, each an app context of its own (a worker process's), syncing ``rounds`` times
    from the same moment; a feed whose host is busy waits for a later round."""
    import threading

    reports: list[feeds.SyncReport] = []
    start = threading.Barrier(workers)

    def worker() -> None:
        with app.app_context():
            start.wait()
            for _ in range(rounds):
                reports.append(feeds.sync_due())
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return reports


def desks(client: Any, admin: dict[str, str], platforms: FakePlatforms, count: int) -> list[dict[str, Any]]:
    """``count`` feeds of accounts on one Mastodon instance (one host)."""
    mastodon(platforms, {f"desk{n}": n + 1 for n in range(count)})
    made = [
        new_feed(client, admin, account=f"desk{n}@mastodon.social", target=f"section:{n}")
        for n in range(count)
    ]
    db.session.commit()
    return made


def test_two_workers_at_once_fetch_each_due_feed_once(client, admin, platforms, app):
    desks(client, admin, platforms, 6)
    reports = workers_sync(app, workers=2, rounds=8)
    assert sum(report.synced for report in reports) == 6
    assert sorted(seen.query["acct"] for seen in platforms.requests) == [f"desk{n}" for n in range(6)]


def test_one_request_in_flight_per_platform_host_for_every_worker(client, admin, platforms, app):
    made = desks(client, admin, platforms, 4)
    assert {db.session.get(CounterFeed, feed["id"]).host for feed in made} == {"mastodon.social"}
    db.session.commit()  # this test's own read ends before the workers write
    platforms.delay = 0.3
    workers_sync(app, workers=3, rounds=6)
    assert platforms.most_in_flight == 1
    assert sorted(seen.query["acct"] for seen in platforms.requests) == [f"desk{n}" for n in range(4)]


def test_a_busy_host_is_skipped_and_freed_after_the_fetch(client, admin, platforms, clock):
    mastodon(platforms, {"a": 1, "b": 2})
    first = new_feed(client, admin, account="a@mastodon.social", target="section:a")
    second = new_feed(client, admin, account="b@mastodon.social", target="section:b")
    now = clock()
    assert feeds._claim(first["id"], now, now, "mastodon.social") is not None
    assert feeds._claim(second["id"], now, now, "mastodon.social") is None  # its host is being asked
    assert feeds._claim(second["id"], now, now, "bsky.social") is not None  # another host is free
    clock.advance(seconds=feeds.FETCH_TIMEOUT + feeds.HOST_MARGIN_SECONDS + 1)
    later = clock()
    row = db.session.get(CounterFeed, second["id"])
    row.next_attempt_at = later
    db.session.commit()
    # A worker that died mid-fetch holds its host no longer than the timeout and a margin.
    assert feeds._claim(second["id"], later, later, "mastodon.social") is not None


def test_an_adapter_that_breaks_fails_its_feed_only(client, admin, platforms, monkeypatch):
    mastodon(platforms, {"a": 1, "b": 2})
    broken = new_feed(client, admin, account="a@mastodon.social", target="section:a")
    working = new_feed(client, admin, account="b@social.example", target="section:b")
    real_fetch = PLATFORMS["mastodon"].fetch

    def fetch(client_: Any, request: Any) -> Any:
        if request.account.startswith("a@"):
            raise KeyError(f"secret-{KEY}")  # an adapter bug, its text holding what it was sending
        return real_fetch(client_, request)

    monkeypatch.setattr(PLATFORMS["mastodon"], "fetch", fetch)
    assert feeds.sync_due() == feeds.SyncReport(synced=1, failed=1)
    got = client.get(f"{API}/{broken['id']}", headers=admin).json
    assert (
        got["health"] == "failing"
        and got["last_error"] == "The platform's answer could not be read (KeyError)."
    )
    assert client.get(f"{API}/{working['id']}", headers=admin).json["health"] == "ok"
    assert client.post(f"{API}/{broken['id']}/sync", headers=admin).status_code == 200
    assert KEY not in client.get(API, headers=admin).get_data(as_text=True)
