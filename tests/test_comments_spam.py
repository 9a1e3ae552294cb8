"""Anti-spam and privacy rules, per site, with WordPress core's defaults."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select, text, update

from engagement.extensions import db
from engagement.models import Comment, CommentStatus, Site, SiteSettings
from tests.factories import make_site, post
from tests.services import redis_url


def stored(response) -> Comment:
    return db.session.get(Comment, response.json["comment"]["id"])


def test_defaults_are_wordpress_cores():
    settings = SiteSettings()
    assert settings.moderation == "first_time"
    assert settings.max_links == 2
    assert settings.flood_seconds == 15
    assert settings.max_depth == 5
    assert settings.edit_window_seconds == 15 * 60
    assert settings.max_body_length == 10_000


def test_filled_honeypot_is_stored_as_spam_but_answered_like_pending(client, app):
    make_site("news")
    response = post(client, hp="http://buy-now.example")
    assert response.status_code == 202
    assert response.json["status"] == "pending"
    comment = stored(response)
    assert comment.status == CommentStatus.SPAM
    assert comment.spam_reasons == ["honeypot"]


def test_second_comment_from_the_same_ip_within_15_seconds_is_429(client, app, clock):
    make_site("news", flood_seconds=15)
    assert post(client, ip="198.51.100.1").status_code == 201
    clock.advance(seconds=10)
    response = post(client, ip="198.51.100.1")
    assert response.status_code == 429
    assert response.json["error"]["code"] == "comment_flood"
    assert response.headers["Retry-After"] == "5"
    clock.advance(seconds=6)
    assert post(client, ip="198.51.100.1").status_code == 201


def test_second_comment_from_the_same_email_within_15_seconds_is_429(client, app):
    make_site("news", flood_seconds=15)
    post(client, ip="198.51.100.1", author_email="fast@example.org")
    response = post(client, ip="198.51.100.2", author_email="fast@example.org")
    assert response.json["error"]["code"] == "comment_flood"


def test_x_forwarded_for_is_ignored_without_trusted_proxies(make_app):
    app = make_app()
    client = app.test_client()
    with app.app_context():
        make_site("news", flood_seconds=15)
    assert _post_with(client, "198.51.100.1", {"X-Forwarded-For": "192.0.2.55"}).status_code == 201
    assert _post_with(client, "198.51.100.1", {"X-Forwarded-For": "192.0.2.99"}).status_code == 429


def test_x_forwarded_for_is_used_behind_a_trusted_proxy(make_app):
    app = make_app(TRUSTED_PROXIES=1)
    client = app.test_client()
    with app.app_context():
        make_site("news", flood_seconds=15)
    assert _post_with(client, "10.0.0.1", {"X-Forwarded-For": "192.0.2.55"}).status_code == 201
    assert _post_with(client, "10.0.0.1", {"X-Forwarded-For": "192.0.2.99"}).status_code == 201
    assert _post_with(client, "10.0.0.1", {"X-Forwarded-For": "192.0.2.99"}).status_code == 429


def _post_with(client, ip, headers):
    from tests.factories import comment_payload

    return client.post(
        "/api/v1/sites/news/comments",
        json=comment_payload(),
        headers=headers,
        environ_base={"REMOTE_ADDR": ip},
    )


def test_same_body_from_the_same_email_on_the_same_thread_is_409(client, app):
    make_site("news")
    post(client, author_email="echo@example.org", body="Same words")
    response = post(client, author_email="echo@example.org", body="Same words")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "duplicate_comment"
    assert post(client, author_email="echo@example.org", body="Same words", thread="other").status_code == 201


def test_max_links_or_more_holds_the_comment(client, app):
    make_site("news", max_links=2)
    one = post(client, body="see https://a.example.com")
    two = post(client, body="see https://a.example.com and [b](https://b.example.com)")
    assert one.status_code == 201
    assert two.status_code == 202
    assert stored(two).spam_reasons == ["max_links"]


def _held_for_links(client, body: str, max_links: int) -> bool:
    """Whether the max_links rule holds ``body`` on a site allowing fewer than ``max_links`` links."""
    make_site(f"links{max_links}", max_links=max_links)
    return "max_links" in stored(post(client, site=f"links{max_links}", body=body)).spam_reasons


def test_plain_text_has_no_links(client, app):
    assert not _held_for_links(client, "nothing to see here, README.md", max_links=1)


def test_markdown_links_and_bare_urls_are_both_counted(client, app):
    body = "[a](https://a.example) and https://example.org and www.example.net"
    assert _held_for_links(client, body, max_links=3)
    assert not _held_for_links(client, body, max_links=4)


def test_raw_anchor_tag_counts_once_for_the_bare_url_shown_inside_its_text(client, app):
    body = '<a href="https://example.org">a</a>'
    assert _held_for_links(client, body, max_links=1)
    assert not _held_for_links(client, body, max_links=2)


def test_rejected_javascript_link_does_not_count(client, app):
    assert not _held_for_links(client, "[x](javascript:alert(1))", max_links=1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("body", "Cheap CASINO chips"),
        ("author_name", "Casino Bob"),
        ("author_email", "bob@casino.example"),
        ("author_url", "https://casino.example"),
    ],
)
def test_a_moderation_word_anywhere_holds_the_comment(client, app, field, value):
    make_site("news", moderation_words=["casino"])
    response = post(client, **{field: value})
    assert response.status_code == 202
    assert stored(response).spam_reasons == ["moderation_word:casino"]


def test_moderation_words_match_ip_and_user_agent(client, app):
    make_site("news", moderation_words=["198.51.100.66", "EvilBot"])
    by_ip = post(client, ip="198.51.100.66")
    by_agent = client.post(
        "/api/v1/sites/news/comments",
        json={"thread": "t", "author_name": "A", "author_email": "a@example.org", "body": "x"},
        headers={"User-Agent": "EvilBot/1.0"},
    )
    assert by_ip.status_code == 202 and by_agent.status_code == 202


def test_a_disallowed_word_marks_it_spam_silently(client, app):
    make_site("news", disallowed_words=["viagra"])
    response = post(client, body="buy ViAgRa")
    assert response.status_code == 202
    assert response.json["status"] == "pending"
    assert stored(response).status == CommentStatus.SPAM


def test_moderation_all_holds_everything(client, app):
    make_site("news", moderation="all")
    response = post(client)
    assert response.status_code == 202
    assert stored(response).spam_reasons == ["moderation_all"]


def test_first_time_holds_until_the_author_has_an_approved_comment(client, app):
    make_site("news", moderation="first_time")
    first = post(client, author_email="new@example.org", body="first")
    assert first.status_code == 202
    assert stored(first).spam_reasons == ["first_time"]
    db.session.execute(update(Comment).values(status=CommentStatus.APPROVED))
    db.session.commit()
    assert post(client, author_email="new@example.org", body="second").status_code == 201
    assert post(client, author_email="stranger@example.org").status_code == 202


def test_pending_comments_are_not_counted_or_listed(client, app):
    make_site("news", moderation="all")
    post(client)
    page = client.get("/api/v1/sites/news/comments", query_string={"thread": "2025/05/xi-putin-moscow"}).json
    assert page["comments"] == [] and page["thread"]["comment_count"] == 0


def test_ips_are_stored_only_as_an_hmac(client, app):
    make_site("news")
    comment = stored(post(client, ip="198.51.100.77"))
    assert comment.ip_hash and len(comment.ip_hash) == 64
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f"SELECT * FROM {table.name}")):
            assert all("198.51.100.77" not in str(value) for value in row)


def test_settings_are_per_site(client, app):
    make_site("news", moderation="all")
    make_site("sport", moderation="none")
    assert post(client, site="news").status_code == 202
    assert post(client, site="sport").status_code == 201
    assert db.session.scalar(select(Site.settings_json).where(Site.slug == "sport"))["moderation"] == "none"


# --- rate limits ---------------------------------------------------------------------------------------


def test_rate_limit_answers_429_json_with_retry_after(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_POST_COMMENT="2 per minute")
    client = app.test_client()
    with app.app_context():
        make_site("news")
    assert post(client).status_code == 201
    assert post(client).status_code == 201
    response = post(client)
    assert response.status_code == 429
    assert response.json["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def test_rate_limits_switch_off_entirely(make_app):
    app = make_app(RATELIMIT_ENABLED=False, RATELIMIT_POST_COMMENT="1 per minute")
    client = app.test_client()
    with app.app_context():
        make_site("news")
    assert [post(client).status_code for _ in range(3)] == [201, 201, 201]


@pytest.mark.redis
def test_rate_limits_live_in_redis_when_configured(make_app):
    import redis

    url = redis_url()
    redis.Redis.from_url(url).flushdb()
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_POST_COMMENT": "2 per minute", "REDIS_URL": url}
    first_app, second_app = make_app(**settings), make_app(**settings)
    with first_app.app_context():
        make_site("news")
    # Two app instances (as two hosts would be) share one budget through Redis.
    assert post(first_app.test_client()).status_code == 201
    assert post(second_app.test_client()).status_code == 201
    assert post(first_app.test_client()).status_code == 429
    assert any(key.startswith(b"LIMITS") for key in redis.Redis.from_url(url).keys("*"))


def test_the_rules_read_the_authors_comments_by_index_not_the_threads_or_the_sites(client, app):
    # The duplicate check once read every comment of the thread and the first-time check every approved
    # comment of the site, on every post: O(thread) and O(site) on SQLite, whose planner has no stats.
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner; PostgreSQL plans from table statistics")
    make_site(moderation="first_time", flood_seconds=15)
    post(client)  # the thread exists, so the duplicate check runs on the next post
    statements: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert post(client, ip="198.51.100.9").status_code == 202
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    # The duplicate rule is a condition of the INSERT itself (INSERT ... SELECT ... WHERE NOT EXISTS).
    rule_queries = [
        (s, p)
        for s, p in statements
        if "author_email" in s and (s.lstrip().startswith("SELECT") or "EXISTS" in s)
    ]
    raw = db.session.connection().connection.dbapi_connection
    plans = [" ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {s}", p)) for s, p in rule_queries]
    assert len(plans) == 3  # first time, duplicate (in the insert), flood
    for plan in plans:
        # The flood check may instead read the site's comments of the last flood_seconds (bounded by
        # time, not by the site's size): ix_comments_site_created's range.
        recent = "ix_comments_site_created (site_id=? AND created_at>?)" in plan
        assert "(author_email=? AND site_id=?" in plan or recent, plan


# --- what spam cannot do to a thread -------------------------------------------------------------------


SQUAT = {"thread": "2026/12/tomorrows-story", "thread_title": "Win a prize: http://phish.example",
         "thread_url": "https://news.example/phish"}  # fmt: skip


def _thread(client, key="2026/12/tomorrows-story"):
    return client.get("/api/v1/sites/news/comments", query_string={"thread": key}).json["thread"]


def test_spam_cannot_give_a_thread_its_title_or_url(client, app):
    # A post judged spam used to create the thread and fix its title and URL for good (squatting the key
    # of tomorrow's article with a phishing title shown by the API, the feeds and mail subjects).
    make_site("news", origins=["https://news.example"], disallowed_words=["prize"])
    assert post(client, **SQUAT, hp="bot").status_code == 202
    assert post(client, **SQUAT, body="A prize for you").status_code == 202
    assert _thread(client)["title"] == "" and _thread(client)["url"] == ""

    # The article's first real comment brings the real title and URL.
    real = {**SQUAT, "thread_title": "Tomorrow's story", "thread_url": "https://news.example/2026/12/story"}
    assert post(client, **real).status_code == 201
    assert _thread(client)["title"] == "Tomorrow's story"
    assert _thread(client)["url"] == "https://news.example/2026/12/story"
    # Once set, a reader's post does not change them (staff do, through the moderation API).
    post(client, **{**real, "thread_title": "Something else"})
    assert _thread(client)["title"] == "Tomorrow's story"


def test_a_held_post_gives_a_thread_its_title_and_fills_a_missing_url(client, app):
    make_site("news", origins=["https://news.example"], moderation="all")
    post(client, **{**SQUAT, "thread_title": "A title", "thread_url": None})
    assert _thread(client)["title"] == "A title" and _thread(client)["url"] == ""
    post(client, **{**SQUAT, "thread_title": "A title", "thread_url": "https://news.example/a"})
    assert _thread(client)["url"] == "https://news.example/a"


def test_spam_cannot_close_tomorrows_article_in_advance(client, app, clock):
    site = make_site("news", close_after_days=14)
    post(client, **SQUAT, hp="bot")  # the spammer creates the thread a month ahead
    clock.advance(days=30)
    first = post(client, **SQUAT)
    assert first.status_code == 201  # the thread's age starts with its first real comment
    clock.advance(days=15)
    assert post(client, **SQUAT).json["error"]["code"] == "thread_closed"
    assert site.settings.close_after_days == 14


def test_a_thread_url_must_be_on_one_of_the_sites_origins(client, app):
    make_site("news", origins=["https://news.example"])
    response = post(client, **{**SQUAT, "thread_url": "https://phish.example/news"})
    assert response.status_code == 422 and "thread_url" in response.json["error"]["fields"]


# --- rules compare folded text and addresses -----------------------------------------------------------


@pytest.mark.parametrize(
    "disguised",
    [
        "buy v\u200biagra",
        "buy VIAGRA",
        "buy \uff56\uff49\uff41\uff47\uff52\uff41",
        "buy vi\u00adagra",
        "cheap  pills",
    ],
)
def test_word_lists_see_through_invisible_characters_case_width_and_spacing(client, app, disguised):
    make_site("news", disallowed_words=["viagra", "cheap pills"])
    response = post(client, body=disguised)
    assert response.status_code == 202
    assert stored(response).status == CommentStatus.SPAM


def test_moderation_words_and_banned_words_are_folded_too(client, app):
    from engagement.models import Ban

    site = make_site("news", moderation_words=["crypto  deal"])
    held = post(client, body="A CRYPTO\u200b deal for you")
    assert stored(held).status == CommentStatus.PENDING
    db.session.add(Ban(site_id=site.id, kind="word", value="casino", action="spam", created_by="test"))
    db.session.commit()
    assert stored(post(client, body="c\u200basino night")).status == CommentStatus.SPAM


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Same words here", "Same\u200b words here"),
        ("Same words here", "Same  words   here"),
        ("Same words here", "SAME WORDS HERE"),
        ("Same words here", "\uff33ame words here"),
    ],
)
def test_a_repeated_comment_is_a_duplicate_whatever_its_disguise(client, app, first, second):
    make_site("news")
    assert post(client, author_email="echo@example.org", body=first).status_code == 201
    response = post(client, author_email="Echo@Example.org", body=second)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "duplicate_comment"


def test_an_edit_keeps_the_duplicate_rule_in_step(client, app):
    make_site("news")
    posted = post(client, author_email="echo@example.org", body="First words").json
    client.patch(
        f"/api/v1/sites/news/comments/{posted['comment']['id']}",
        json={"body": "Edited words"},
        headers={"Authorization": f"Bearer {posted['edit_token']}"},
    )
    assert post(client, author_email="echo@example.org", body="edited  WORDS").status_code == 409
    assert post(client, author_email="echo@example.org", body="First words").status_code == 201


def test_the_migration_folds_text_exactly_as_the_rules_do():
    import importlib.util
    from pathlib import Path

    from engagement.normalization import body_digest, fold

    path = Path(__file__).parent.parent / "migrations/versions/0011_folded_comparisons.py"
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    samples = [
        "",
        " ",
        "Straße",
        "ﬁne\u200b  day",
        "\uff21\u0301",
        "a\u2028b\tc",
        "x\ufe0fy",
        "\u3164",
        "emoji 👍🏽",
    ]
    for sample in samples:
        assert migration.fold(sample) == fold(sample)
        assert migration.body_digest(sample) == body_digest(sample)
