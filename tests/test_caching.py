"""The caching layer (engagement/caching.py): per-process copies that stop being trusted at every change.

A cached value is trusted while its key's change stamp is unchanged and its TTL runs; every write through
the service touches the stamps of what it changed once it commits. Specified here: the cache and the two
places stamps live, on their own; then the promise end to end through the HTTP API: after every kind of
write the next read sees it, on this app or on another one sharing the stamps (which is what two gunicorn
workers are), and a read of something unchanged costs no SQL.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy import inspect as sa_inspect

from engagement import caching
from engagement.caching import (
    DEPENDENT_CACHE_BYTES,
    REDIS_PREFIX,
    REDIS_STAMP_SECONDS,
    BoundedMap,
    HostStamps,
    RedisStamps,
    StampedCache,
    change_stamps,
    default_stamps_path,
    dependent_cache,
    entry_size,
)
from engagement.comments import reading
from engagement.extensions import db
from engagement.http import _query_memo
from engagement.models import OutboxMessage, StaffRole
from engagement.staff.service import create_token
from tests.factories import make_site, post
from tests.import_files import newsroom_isso, run_import
from tests.services import redis_url
from tests.sql import count_queries

ROOT = Path(__file__).resolve().parent.parent
API = "/api/v1/sites/news"
MOD = "/api/v1/moderation"
THREAD = "2025/05/xi-putin-moscow"
KEY = f"thread:1:{THREAD}"
OTHER_KEY = "site:news"  # another slot of the stamps file than KEY


class Monotonic:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Backing:
    """What a cache stands in front of: the current values, and how often each key was loaded."""

    values: dict[str, Any]
    loads: Counter[str] = field(default_factory=Counter)

    def read(self, cache: StampedCache[Any], key: str) -> Any:
        def load() -> Any:
            self.loads[key] += 1
            return self.values[key]

        return cache.get(key, load)


@pytest.fixture
def dead_redis() -> Iterator[str]:
    """The URL of a Redis that refuses every connection: a port bound for the test and never listened on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


@pytest.fixture
def live_redis() -> str:
    """The test Redis, emptied (skips locally when there is none; fails in CI)."""
    url = redis_url()
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def bearer() -> dict[str, str]:
    _, secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="desk")
    return {"Authorization": f"Bearer {secret}"}


# --- StampedCache ------------------------------------------------------------------------------------------


def test_a_hit_costs_no_load():
    cache = StampedCache(HostStamps(None), ttl_seconds=60)
    backing = Backing({KEY: "a thread"})

    first, second = backing.read(cache, KEY), backing.read(cache, KEY)

    assert (first, second) == ("a thread", "a thread")
    assert backing.loads[KEY] == 1


def test_a_touched_key_is_loaded_again_and_the_others_stay_cached():
    stamps = HostStamps(None)
    cache = StampedCache(stamps, ttl_seconds=60)
    backing = Backing({KEY: "before", OTHER_KEY: "a site"})
    backing.read(cache, KEY)
    backing.read(cache, OTHER_KEY)

    backing.values[KEY] = "after"
    stamps.touch([KEY])

    assert backing.read(cache, KEY) == "after"
    assert backing.read(cache, OTHER_KEY) == "a site"
    assert backing.loads == {KEY: 2, OTHER_KEY: 1}


def test_a_value_read_before_a_write_touched_its_key_is_not_trusted_after_the_touch():
    stamps = HostStamps(None)
    cache = StampedCache(stamps, ttl_seconds=60)

    def load_while_a_write_commits() -> str:
        answered = "before the write"  # what the database said
        stamps.touch([KEY])  # the write commits and touches before the read stores its answer
        return answered

    racing = cache.get(KEY, load_while_a_write_commits)
    next_read = cache.get(KEY, lambda: "after the write")

    assert racing == "before the write"  # the racing read itself may answer what it read
    assert next_read == "after the write"


def test_an_entry_expires_when_its_ttl_has_run():
    clock = Monotonic()
    cache = StampedCache(HostStamps(None), ttl_seconds=60, monotonic=clock)
    backing = Backing({KEY: "a thread"})
    backing.read(cache, KEY)

    clock.advance(59)
    backing.read(cache, KEY)
    loads_within_the_ttl = backing.loads[KEY]
    clock.advance(1)
    backing.read(cache, KEY)

    assert loads_within_the_ttl == 1
    assert backing.loads[KEY] == 2


def test_a_value_whose_stamp_is_unknown_is_loaded_on_every_read(dead_redis):
    cache = StampedCache(RedisStamps(redis.Redis.from_url(dead_redis)), ttl_seconds=60)
    backing = Backing({KEY: "a thread"})

    answers = [backing.read(cache, KEY) for _ in range(3)]

    assert answers == ["a thread"] * 3
    assert backing.loads[KEY] == 3


class StampsWithAnOutage(HostStamps):
    """This process's stamps, unknown while ``down``: what RedisStamps answers while Redis fails."""

    def __init__(self) -> None:
        super().__init__(None)
        self.down = False

    def read(self, keys):
        return [None] * len(keys) if self.down else super().read(keys)


def test_a_value_whose_stamp_is_unknown_is_never_stored_so_it_pushes_no_trusted_entry_out():
    stamps = StampsWithAnOutage()
    cache = StampedCache(stamps, ttl_seconds=60, max_entries=1)
    backing = Backing({KEY: "read during the outage", OTHER_KEY: "read before it"})
    backing.read(cache, OTHER_KEY)

    stamps.down = True
    backing.read(cache, KEY)
    stamps.down = False
    backing.read(cache, OTHER_KEY)

    assert backing.loads == {KEY: 1, OTHER_KEY: 1}


def test_get_many_loads_only_the_keys_it_cannot_trust_and_in_one_call():
    stamps = HostStamps(None)
    cache = StampedCache(stamps, ttl_seconds=60)
    calls: list[list[str]] = []

    def load(missing: list[str]) -> dict[str, str]:
        calls.append(missing)
        return {key: key.upper() for key in missing}

    cache.get_many(["thread:1:a", "thread:1:b"], load)
    stamps.touch(["thread:1:a"])
    values = cache.get_many(["thread:1:a", "thread:1:b", "thread:1:c"], load)

    assert values == {"thread:1:a": "THREAD:1:A", "thread:1:b": "THREAD:1:B", "thread:1:c": "THREAD:1:C"}
    assert calls == [["thread:1:a", "thread:1:b"], ["thread:1:a", "thread:1:c"]]


def test_beyond_max_entries_the_oldest_stored_entry_goes_first():
    cache = StampedCache(HostStamps(None), ttl_seconds=60, max_entries=2)
    backing = Backing({"thread:1:a": 1, "thread:1:b": 2, "thread:1:c": 3})
    for key in ("thread:1:a", "thread:1:b", "thread:1:c"):
        backing.read(cache, key)

    for key in ("thread:1:c", "thread:1:b", "thread:1:a"):
        backing.read(cache, key)

    assert backing.loads == {"thread:1:a": 2, "thread:1:b": 1, "thread:1:c": 1}


# --- HostStamps --------------------------------------------------------------------------------------------

# Another process of the host (a gunicorn worker, the CLI): what it read, then its touch.
TOUCH_IN_ANOTHER_PROCESS = """
import sys
from pathlib import Path
from engagement.caching import HostStamps

stamps = HostStamps(Path(sys.argv[1]))
before = stamps.read([sys.argv[2]])[0]
stamps.touch([sys.argv[2]])
print(before, stamps.read([sys.argv[2]])[0])
"""


def test_two_maps_of_one_stamps_file_see_each_others_touches_at_once(tmp_path):
    one, other = HostStamps(tmp_path / "stamps"), HostStamps(tmp_path / "stamps")
    before = other.read([KEY])

    one.touch([KEY])

    assert other.read([KEY]) != before
    assert other.read([KEY]) == one.read([KEY])


def test_a_stamp_read_by_a_remembered_place_is_the_stamp_a_fresh_map_reads(tmp_path):
    one, fresh = HostStamps(tmp_path / "stamps"), HostStamps(tmp_path / "stamps")
    keys = [f"thread:1:article-{number}" for number in range(50)] + ["thread:1:" + "x" * 600]
    one.read(keys)  # places remembered
    one.touch(keys[::7])

    assert one.read(keys) == fresh.read(keys)


def test_keys_from_requests_cannot_grow_the_remembered_places_past_their_bound(tmp_path):
    stamps = HostStamps(tmp_path / "stamps")
    long_keys = ["thread:1:" + f"{number}".rjust(500, "x") for number in range(100)]
    many_keys = [f"thread:1:{number}" for number in range(caching.MAX_REMEMBERED_OFFSETS * 3)]

    stamps.read(long_keys)
    assert stamps._offsets == {}
    for start in range(0, len(many_keys), 100):
        stamps.read(many_keys[start : start + 100])
        assert len(stamps._offsets) <= caching.MAX_REMEMBERED_OFFSETS


def test_another_process_sees_this_ones_touch_and_this_one_sees_its_touch_at_once(tmp_path):
    stamps = HostStamps(tmp_path / "stamps")
    stamps.touch([KEY])
    ours = stamps.read([KEY])[0]

    child = subprocess.run(
        [sys.executable, "-c", TOUCH_IN_ANOTHER_PROCESS, str(tmp_path / "stamps"), KEY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert child.returncode == 0, child.stderr
    seen_there, touched_there = (int(word) for word in child.stdout.split())
    assert seen_there == ours
    assert stamps.read([KEY])[0] == touched_there != ours


def test_touching_one_key_leaves_the_stamps_of_other_keys_alone(tmp_path):
    stamps = HostStamps(tmp_path / "stamps")
    before = stamps.read([KEY, OTHER_KEY])

    stamps.touch([KEY])
    after = stamps.read([KEY, OTHER_KEY])

    assert after[0] != before[0]
    assert after[1] == before[1]


def test_stamps_without_a_file_work_and_are_seen_by_their_own_object_only():
    stamps, elsewhere = HostStamps(None), HostStamps(None)
    before, elsewhere_before = stamps.read([KEY]), elsewhere.read([KEY])

    stamps.touch([KEY])

    assert stamps.read([KEY]) != before
    assert elsewhere.read([KEY]) == elsewhere_before


# --- RedisStamps -------------------------------------------------------------------------------------------


@pytest.mark.redis
def test_a_touch_in_redis_is_seen_at_once_by_another_client(live_redis):
    writer = RedisStamps(redis.Redis.from_url(live_redis))
    reader = RedisStamps(redis.Redis.from_url(live_redis))
    before = reader.read([KEY, OTHER_KEY])

    writer.touch([KEY])
    after = reader.read([KEY, OTHER_KEY])

    assert after[0] != before[0]
    assert after[1] == before[1]
    assert writer.read([KEY]) == [after[0]]


@pytest.mark.redis
def test_a_stamp_in_redis_expires_long_after_any_entry_could_still_hold_it(live_redis):
    client = redis.Redis.from_url(live_redis)

    RedisStamps(client).touch([KEY])

    assert 24 * 3600 < client.ttl(REDIS_PREFIX + KEY) <= REDIS_STAMP_SECONDS


def test_with_redis_unreachable_every_stamp_is_unknown_and_a_touch_is_lost_without_an_error(
    dead_redis, caplog
):
    stamps = RedisStamps(redis.Redis.from_url(dead_redis))

    read = stamps.read([KEY, OTHER_KEY])
    stamps.touch([KEY])

    assert read == [None, None]
    assert "change stamps unavailable" in caplog.text
    assert "change stamps not touched" in caplog.text


@pytest.mark.redis
def test_a_stamp_redis_lost_is_claimed_anew_and_every_reader_agrees_on_it(live_redis):
    # A restart without persistence, a flush or an eviction: an entry stored under the lost stamp must
    # not be trusted again, so the stamp is not read as 0 but claimed, once for everyone.
    client = redis.Redis.from_url(live_redis)
    one, another = RedisStamps(client), RedisStamps(redis.Redis.from_url(live_redis))
    one.touch([KEY])
    before = one.read([KEY])

    client.flushdb()
    claimed = one.read([KEY])

    assert None not in claimed and claimed != before
    assert another.read([KEY]) == claimed


def test_after_a_redis_error_reads_do_not_ask_redis_again_for_a_while(dead_redis, caplog):
    # A hung Redis would otherwise cost every request a socket timeout.
    stamps = RedisStamps(redis.Redis.from_url(dead_redis))
    assert stamps.read([KEY]) == [None]
    caplog.clear()

    assert stamps.read([KEY, OTHER_KEY]) == [None, None]
    assert "change stamps unavailable" not in caplog.text


def test_an_unusable_stamps_file_makes_every_stamp_unknown_instead_of_failing(tmp_path, caplog):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    stamps = HostStamps(blocked / "stamps")

    assert stamps.read([KEY]) == [None]
    stamps.touch([KEY])
    assert "unusable" in caplog.text


# --- where an app's stamps live ----------------------------------------------------------------------------


def app_for(database_url: str, tmp_path: Path) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    return app


def test_the_stamps_of_a_sqlite_database_lie_beside_its_file(tmp_path):
    path = default_stamps_path(app_for(f"sqlite:///{tmp_path}/news.db", tmp_path))

    assert path == tmp_path / "news.db.stamps"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true"])
def test_an_in_memory_sqlite_database_has_stamps_in_its_process_only(tmp_path, url):
    assert default_stamps_path(app_for(url, tmp_path)) is None


def test_each_postgresql_database_has_its_stamps_file_in_the_instance_folder(tmp_path):
    def path(url: str) -> Path | None:
        return default_stamps_path(app_for(url, tmp_path))

    news = path("postgresql+psycopg://app:secret@db.example/news")
    sport = path("postgresql+psycopg://app:secret@db.example/sport")
    news_elsewhere = path("postgresql+psycopg://app:secret@db2.example/news")
    news_with_a_new_password = path("postgresql+psycopg://app:rotated@db.example/news")

    assert news.parent == tmp_path / "instance"
    assert len({news, sport, news_elsewhere}) == 3
    assert news_with_a_new_password == news  # the same database shares its stamps
    assert "secret" not in str(news)


def test_an_app_keeps_its_stamps_in_redis_when_configured_else_in_the_hosts_file(
    make_app, tmp_path, dead_redis
):
    with make_app().app_context():
        configured = change_stamps()
    with make_app(CHANGE_STAMPS_PATH=None).app_context() as context:
        by_default, default_path = change_stamps(), default_stamps_path(context.app)
    with make_app(REDIS_URL=dead_redis).app_context():
        in_redis = change_stamps()

    assert isinstance(configured, HostStamps) and configured.path == tmp_path / "change-stamps"
    assert isinstance(by_default, HostStamps) and by_default.path == default_path
    assert isinstance(in_redis, RedisStamps)


# --- through the API: every write shows at once ------------------------------------------------------------


@pytest.fixture
def site(app):
    return make_site("news")


@pytest.fixture
def admin(app):
    return bearer()


def page(client: FlaskClient, thread: str = THREAD, etag: str | None = None) -> Any:
    headers = {"If-None-Match": etag} if etag else {}
    return client.get(f"{API}/comments", query_string={"thread": thread}, headers=headers)


def cached_etag(client: FlaskClient, thread: str = THREAD) -> str:
    """The thread's ETag, once the app answers 304 to it: from here on, the app's caches hold the thread."""
    etag = page(client, thread).headers["ETag"]
    assert page(client, thread, etag=etag).status_code == 304
    return etag


def counts(client: FlaskClient, *threads: str) -> dict[str, int]:
    response = client.get(f"{API}/counts", query_string=[("thread", t) for t in threads or (THREAD,)])
    assert response.status_code == 200, response.json
    return response.json["counts"]


def test_the_first_comment_of_a_thread_shows_at_once_where_no_thread_was_cached(client, site):
    etag = cached_etag(client)
    assert counts(client) == {THREAD: 0}

    assert post(client).status_code == 201

    again = page(client, etag=etag)
    assert again.status_code == 200 and again.json["thread"]["comment_count"] == 1
    assert counts(client) == {THREAD: 1}


def test_posting_an_approved_comment_shows_at_once_in_the_etag_and_the_counts(client, site):
    post(client)
    etag = cached_etag(client)
    assert counts(client) == {THREAD: 1}

    assert post(client).status_code == 201

    again = page(client, etag=etag)
    assert again.status_code == 200 and again.json["thread"]["comment_count"] == 2
    assert counts(client) == {THREAD: 2}


def test_a_moderator_approving_a_held_comment_shows_at_once(client, app, admin):
    make_site("news", moderation="all")
    held = post(client).json["comment"]["id"]
    etag = cached_etag(client)
    assert counts(client) == {THREAD: 0}

    approved = client.patch(f"{MOD}/comments/{held}", json={"status": "approved"}, headers=admin)

    assert approved.status_code == 200
    again = page(client, etag=etag)
    assert again.status_code == 200 and [c["id"] for c in again.json["comments"]] == [held]
    assert counts(client) == {THREAD: 1}


def test_a_moderator_trashing_a_comment_shows_at_once(client, site, admin):
    comment_id = post(client).json["comment"]["id"]
    etag = cached_etag(client)
    assert counts(client) == {THREAD: 1}

    trashed = client.patch(f"{MOD}/comments/{comment_id}", json={"status": "trash"}, headers=admin)

    assert trashed.status_code == 200
    again = page(client, etag=etag)
    assert again.status_code == 200 and again.json["comments"] == []
    assert counts(client) == {THREAD: 0}


@pytest.mark.parametrize("change", [{"closed": True}, {"title": "Fixed title"}], ids=["close", "retitle"])
def test_a_moderator_closing_or_retitling_a_thread_shows_at_once(client, site, admin, change):
    post(client)
    etag = cached_etag(client)

    updated = client.patch(
        f"{MOD}/sites/news/threads", query_string={"key": THREAD}, json=change, headers=admin
    )

    assert updated.status_code == 200
    again = page(client, etag=etag)
    assert again.status_code == 200
    assert {name: again.json["thread"][name] for name in change} == change


def test_closing_a_thread_stops_the_next_comment_at_once(client, site, admin):
    post(client)
    cached_etag(client)

    client.patch(
        f"{MOD}/sites/news/threads", query_string={"key": THREAD}, json={"closed": True}, headers=admin
    )

    assert post(client).json["error"]["code"] == "thread_closed"


def test_an_import_shows_at_once_in_threads_that_had_comments_and_in_new_ones(client, site, tmp_path):
    isso = newsroom_isso(tmp_path / "isso.db")
    post(client, thread="/2024/05/xi-putin/")
    etags = {key: cached_etag(client, key) for key in ("/2024/05/xi-putin/", "/2024/05/unicode/")}
    assert counts(client, *etags) == {"/2024/05/xi-putin/": 1, "/2024/05/unicode/": 0}

    run_import("isso", isso)

    assert {key: page(client, key, etag=etag).status_code for key, etag in etags.items()} == {
        "/2024/05/xi-putin/": 200,
        "/2024/05/unicode/": 200,
    }
    assert counts(client, *etags) == {"/2024/05/xi-putin/": 4, "/2024/05/unicode/": 1}


def test_a_site_settings_change_shows_at_once_in_the_thread_page_and_the_next_comment(client, site, admin):
    post(client)
    etag = cached_etag(client)
    assert page(client).json["settings"]["max_depth"] == 5

    changed = client.patch(f"{MOD}/sites/news", json={"max_depth": 2, "moderation": "all"}, headers=admin)

    assert changed.status_code == 200
    again = page(client, etag=etag)
    assert again.status_code == 200 and again.json["settings"]["max_depth"] == 2
    assert post(client).status_code == 202  # held: moderation "all" applies to the very next comment


def test_a_site_changed_after_a_commit_expired_its_row_still_shows_at_once(client, site):
    # The row's slug is not loaded when the change is flushed: the flush hook must load it, not skip it.
    post(client)
    assert page(client).json["settings"]["max_depth"] == 5
    settings = site.settings  # loads the row
    db.session.expire(site, ["slug"])  # as a commit would, for this one column

    site.settings = settings.replace(max_depth=3)
    assert "slug" not in sa_inspect(site).dict
    db.session.commit()

    assert page(client).json["settings"]["max_depth"] == 3


def test_a_ban_made_or_lifted_after_the_sites_bans_were_cached_applies_to_the_next_comment(
    client, site, admin
):
    # The third post finds its thread cached, so nothing has opened a transaction when the bans are read:
    # from then on the site's bans (none) come from this process.
    for n in range(3):
        assert post(client, body=f"warming up {n}").status_code == 201
    with count_queries() as statements:
        post(client, body="bans from the cache")
    assert not [s for s in statements if "FROM bans" in s]

    ban = client.post(f"{MOD}/bans", json={"site": "news", "kind": "word", "value": "blocked"}, headers=admin)
    assert ban.status_code == 201
    assert post(client, body="a blocked word").status_code == 202  # spam, answered like pending

    assert client.delete(f"{MOD}/bans/{ban.json['id']}", headers=admin).status_code == 204
    assert post(client, body="the blocked word again").status_code == 201


def test_a_repeated_304_and_a_repeated_counts_request_cost_no_sql(client, site):
    post(client)
    etag = cached_etag(client)
    counts(client)

    with count_queries() as statements:
        not_modified = page(client, etag=etag)
        counted = counts(client)

    assert not_modified.status_code == 304
    assert counted == {THREAD: 1}
    assert statements == []


# --- across apps: gunicorn workers, hosts -------------------------------------------------------------------


@dataclass
class Writer:
    """Another app on the same database: a second gunicorn worker, a CLI run, another host."""

    app: Flask
    client: FlaskClient
    admin: dict[str, str]
    tmp_path: Path


def writer_and_reader(
    make_app: Callable[..., Flask],
    tmp_path: Path,
    writer_settings: dict[str, Any] | None = None,
    reader_settings: dict[str, Any] | None = None,
) -> tuple[Writer, FlaskClient]:
    """Two apps on one database (and, unless told otherwise, one stamps file), with a site "news"."""
    writing, reading = make_app(**(writer_settings or {})), make_app(**(reader_settings or {}))
    with writing.app_context():
        make_site("news")
        admin = bearer()
    return Writer(writing, writing.test_client(), admin, tmp_path), reading.test_client()


def test_two_apps_sharing_a_database_and_a_stamps_file_see_each_others_writes_at_once(make_app, tmp_path):
    writer, reader = writer_and_reader(make_app, tmp_path)
    post(writer.client)
    etag = cached_etag(reader)
    assert counts(reader) == {THREAD: 1}

    post(writer.client)
    after_post = page(reader, etag=etag)
    counted = counts(reader)
    etag = cached_etag(reader)
    writer.client.patch(f"{MOD}/sites/news", json={"max_depth": 2}, headers=writer.admin)
    after_settings = page(reader, etag=etag)

    assert after_post.status_code == 200 and after_post.json["thread"]["comment_count"] == 2
    assert counted == {THREAD: 2}
    assert after_settings.status_code == 200 and after_settings.json["settings"]["max_depth"] == 2


def test_a_site_created_through_another_app_is_found_at_once_where_it_was_unknown(make_app, tmp_path):
    reader_app, writer_app = make_app(), make_app()
    with writer_app.app_context():
        admin = bearer()
    reader, writer = reader_app.test_client(), writer_app.test_client()
    urls = (f"{API}/counts?thread=a", "/badges/news/fans.json")
    unknown = [reader.get(url).json["error"]["code"] for url in urls]

    created = writer.post(f"{MOD}/sites", json={"slug": "news", "name": "News"}, headers=admin)

    assert unknown == ["site_not_found", "site_not_found"]
    assert created.status_code == 201
    assert [reader.get(url).status_code for url in urls] == [200, 200]


def test_a_write_committed_between_a_reads_site_query_and_its_thread_lookup_is_not_cached_as_current(
    make_app, tmp_path
):
    # On SQLite the read transaction's snapshot is taken by its first query (the site), before the
    # thread's stamp is read: a thread loaded from it must not be stored under the newer write's stamp.
    writer, reader = writer_and_reader(make_app, tmp_path)
    post(writer.client)
    etag = cached_etag(reader)
    # Not a public setting, so the ETag stays; the reader's next request loads the site first.
    writer.client.patch(f"{MOD}/sites/news", json={"max_links": 3}, headers=writer.admin)
    with reader.application.app_context():
        reader_engine = db.engine
    written = []

    def write_after_the_site_query(_conn, _cursor, statement, *_args):
        if "FROM sites" in statement and not written:
            written.append(post(writer.client).status_code)

    event.listen(reader_engine, "after_cursor_execute", write_after_the_site_query)
    try:
        page(reader, etag=etag)  # the racing read may answer either
    finally:
        event.remove(reader_engine, "after_cursor_execute", write_after_the_site_query)
    next_read = page(reader, etag=etag)

    assert written == [201]
    assert next_read.status_code == 200 and next_read.json["thread"]["comment_count"] == 2


@pytest.mark.redis
def test_with_redis_apps_on_different_hosts_see_each_others_writes_at_once(make_app, tmp_path, live_redis):
    # Hosts share no stamps file: only Redis connects them.
    writer, reader = writer_and_reader(
        make_app,
        tmp_path,
        writer_settings={"REDIS_URL": live_redis, "CHANGE_STAMPS_PATH": str(tmp_path / "host-a-stamps")},
        reader_settings={"REDIS_URL": live_redis, "CHANGE_STAMPS_PATH": str(tmp_path / "host-b-stamps")},
    )
    post(writer.client)
    etag = cached_etag(reader)

    post(writer.client)

    again = page(reader, etag=etag)
    assert again.status_code == 200 and again.json["thread"]["comment_count"] == 2
    assert counts(reader) == {THREAD: 2}


def test_with_redis_unreachable_every_read_asks_the_database_and_stays_right(make_app, dead_redis):
    app = make_app(REDIS_URL=dead_redis)
    with app.app_context():
        make_site("news")
    client = app.test_client()
    post(client)
    etag = page(client).headers["ETag"]

    revalidated = page(client, etag=etag)
    post(client)
    after_post = page(client, etag=etag)

    assert revalidated.status_code == 304
    assert after_post.status_code == 200 and after_post.json["thread"]["comment_count"] == 2
    assert counts(client) == {THREAD: 2}


# --- badges across apps ------------------------------------------------------------------------------------

READER_HEADERS = {"X-Engagement-Reader": "reader-0123456789abcdef"}


def follow(writer: Writer) -> None:
    assert writer.client.post(f"{API}/engagement/followers", headers=READER_HEADERS).status_code == 200


def unfollow(writer: Writer) -> None:
    assert writer.client.delete(f"{API}/engagement/followers", headers=READER_HEADERS).status_code == 200


def push_fans(writer: Writer) -> None:
    pushed = writer.client.put(
        f"{MOD}/sites/news/engagement/fans", json={"source": "facebook", "count": 1200}, headers=writer.admin
    )
    assert pushed.status_code == 200, pushed.json


def set_count_on_the_command_line(writer: Writer) -> None:
    result = writer.app.test_cli_runner().invoke(
        args=["engagement", "set-count", "news", "subscribers", "12345", "--source", "youtube"]
    )
    assert result.exit_code == 0, result.output


def confirm_a_subscription(writer: Writer) -> None:
    assert writer.client.post(f"{API}/subscribers", json={"email": "sub@example.org"}).status_code == 202
    with writer.app.app_context():
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "sub@example.org"))
    confirm = re.search(r"/mail/confirm/[\w.-]+", mail.text_body).group(0)
    assert writer.client.post(confirm).status_code == 200


def export_a_follower_then_lose_it(writer: Writer) -> None:
    follow(writer)
    exported = writer.client.get(f"{MOD}/sites/news/export", headers=writer.admin)
    assert exported.status_code == 200
    (writer.tmp_path / "news.jsonl").write_bytes(exported.data)
    unfollow(writer)


def restore_the_export(writer: Writer) -> None:
    result = writer.app.test_cli_runner().invoke(
        args=["engagement", "import", "json", str(writer.tmp_path / "news.jsonl"), "--site", "news"]
    )
    assert result.exit_code == 0, result.output


@dataclass(frozen=True)
class CounterWrite:
    """A way to change a counter: its badge of ``kind`` says ``before``, and ``after`` once written."""

    kind: str
    write: Callable[[Writer], None]
    before: str
    after: str
    prepare: Callable[[Writer], None] = lambda _writer: None


COUNTER_WRITES = {
    "follow": CounterWrite("followers", follow, "0", "1"),
    "unfollow": CounterWrite("followers", unfollow, "1", "0", prepare=follow),
    "staff push": CounterWrite("fans", push_fans, "0", "1.2k"),
    "cli set-count": CounterWrite("subscribers", set_count_on_the_command_line, "0", "12k"),
    "confirmed subscription": CounterWrite("subscribers", confirm_a_subscription, "0", "1"),
    "json restore": CounterWrite(
        "followers", restore_the_export, "0", "1", prepare=export_a_follower_then_lose_it
    ),
}


@pytest.mark.parametrize("change", COUNTER_WRITES.values(), ids=COUNTER_WRITES.keys())
def test_a_counter_write_through_one_app_changes_the_badge_another_app_serves_at_once(
    make_app, tmp_path, change
):
    writer, reader = writer_and_reader(make_app, tmp_path)
    change.prepare(writer)
    url = f"/badges/news/{change.kind}.json"
    cached = reader.get(url)
    assert reader.get(url, headers={"If-None-Match": cached.headers["ETag"]}).status_code == 304

    change.write(writer)
    again = reader.get(url, headers={"If-None-Match": cached.headers["ETag"]})

    assert cached.json["message"] == change.before
    assert again.status_code == 200
    assert again.json["message"] == change.after


def test_a_stamp_never_touched_is_claimed_not_read_as_zero(tmp_path):
    # Zero is what a new stamps file (or a lost Redis key) holds: an entry stored under it before the
    # file was made again must not be trusted by the stamp of the new file.
    path = tmp_path / "stamps"
    first = HostStamps(path).read([KEY])
    path.unlink()

    again = HostStamps(path).read([KEY])

    assert 0 not in first + again
    assert again != first


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///file:{dir}/news.db?uri=true", "{dir}/news.db.stamps"),
        ("sqlite:///file:shared?mode=memory&cache=shared&uri=true", None),
    ],
)
def test_a_sqlite_uri_filename_puts_stamps_beside_its_file_or_nowhere_in_memory(tmp_path, url, expected):
    app = app_for(url.format(dir=tmp_path), tmp_path)

    found = default_stamps_path(app)

    assert found == (Path(expected.format(dir=tmp_path)) if expected else None)


# --- bounded by bytes: what requests put in a process's caches cannot grow without end -------------------


def held_bytes(cache: BoundedMap[Any, Any]) -> int:
    """What the cache's entries hold, measured afresh (not its own running total)."""
    return sum(entry_size(key, value) for key, value in cache.items())


def test_a_bounded_map_keeps_its_bytes_under_budget_evicting_the_oldest_first():
    cache: BoundedMap[str, bytes] = BoundedMap(max_entries=1000, max_bytes=100_000)
    for number in range(50):
        assert cache.put(f"page {number}", b"x" * 10_000)

    assert held_bytes(cache) == cache.nbytes <= 100_000
    assert 5 <= len(cache) < 10
    assert cache.get("page 49") is not None and cache.get("page 0") is None


def test_a_value_bigger_than_an_eighth_of_the_budget_is_not_kept_and_pushes_nothing_out():
    cache: BoundedMap[str, bytes] = BoundedMap(max_entries=1000, max_bytes=100_000)
    cache.put("small", b"x" * 1000)

    assert cache.put("huge", b"x" * 13_000) is False

    assert cache.get("huge") is None and cache.get("small") is not None
    assert held_bytes(cache) == cache.nbytes


def test_a_least_recently_used_map_keeps_what_is_read():
    cache: BoundedMap[str, bytes] = BoundedMap(max_entries=2, lru=True)
    cache.put("a", b"1")
    cache.put("b", b"2")
    cache.get("a")
    cache.put("c", b"3")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")


def test_the_page_cache_keeps_its_bytes_under_budget_however_many_large_pages(client, site, monkeypatch):
    monkeypatch.setattr(reading, "PAGE_CACHE_BYTES", 2 * 2**20)
    for _ in range(12):
        parent = post(client, body="Two kilobytes. " * 140).json["comment"]["id"]
        for _ in range(reading.REPLIES_PER_COMMENT):
            post(client, parent_id=parent, body="Two kilobytes. " * 140)

    served = 0
    for sort in ("oldest", "newest", "top"):
        for limit in range(1, 13):
            response = client.get(
                f"{API}/comments", query_string={"thread": THREAD, "limit": limit, "sort": sort}
            )
            assert len(response.json["comments"]) == limit
            served += len(response.data)
            db.session.remove()  # as the end of its own app context would: the next one keeps what it reads

    cache = dependent_cache("pages")._entries
    assert served > 2 * cache.max_bytes
    assert held_bytes(cache) == cache.nbytes <= cache.max_bytes == 2 * 2**20
    # The biggest pages (over 256 KB) were served but not kept.
    bodies = [entry.value[1] for _, entry in cache.items()]
    assert all(len(body) <= cache.max_bytes // 8 for body in bodies)
    assert max(len(body) for body in bodies) > cache.max_bytes // 16


def ask_long_counts(client: FlaskClient, requests: int) -> None:
    """Counts requests naming 100 threads with 500-character keys, each a new query string: what a
    client can send to fill the caches keyed by query strings."""
    for number in range(requests):
        keys = [f"{number:04d}/{index:03d}/" + "k" * 490 for index in range(100)]
        response = client.get(f"{API}/counts", query_string=[("thread", key) for key in keys])
        assert response.status_code == 200
        db.session.remove()  # as the end of its own app context would: the next one keeps what it reads


def test_counts_answers_kept_per_query_string_stay_under_their_byte_budget(client, site):
    ask_long_counts(client, 130)

    answers = dependent_cache("counts_answers")._entries
    assert held_bytes(answers) == answers.nbytes <= answers.max_bytes == DEPENDENT_CACHE_BYTES
    assert 50 < len(answers) < 130  # the bytes ran out, not the entries (10,000)


def test_validated_query_strings_stay_under_their_byte_budget(client, site):
    _query_memo.clear()
    ask_long_counts(client, 60)

    assert held_bytes(_query_memo) == _query_memo.nbytes <= _query_memo.max_bytes
    assert 20 < len(_query_memo) < 60  # the bytes ran out, not the entries (2,048)


# --- HTTP caching: what a CDN or nginx may keep ----------------------------------------------------------


def test_every_public_read_tells_shared_caches_what_they_may_keep(client, site):
    post(client)
    reads = {
        f"{API}/comments?thread={THREAD}": "public, no-cache",
        f"{API}/counts?thread={THREAD}": "public, no-cache",
        f"{API}/feed.atom": "public, no-cache",
        f"{API}/engagement": "public, no-cache",  # the counts alone; the reader's state is at /reader
        "/badges/news/followers.svg": "public, max-age=300",
        "/api/v1/openapi.json": "public, max-age=300",
    }
    for path, cache_control in reads.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == cache_control, path


@pytest.mark.parametrize(
    "path", [f"{API}/counts?thread={THREAD}", f"{API}/feed.atom", "/api/v1/openapi.json"]
)
def test_counts_feed_and_the_api_document_revalidate_with_their_etag(client, site, path):
    post(client)
    first = client.get(path)
    etag = first.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    if path != "/api/v1/openapi.json":
        post(client)  # a new comment: the same request gets a new answer
        db.session.remove()
        changed = client.get(path, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] != etag
