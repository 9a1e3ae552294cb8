"""The demo site that ``make run`` serves: the seed article, a short conversation, a few comments waiting
for a moderator in the console, and counters with three months of history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engagement import clock
from engagement.comments.drafts import Client, NewComment
from engagement.comments.service import post_comment
from engagement.counters.platforms import PLATFORMS
from engagement.counters.service import push_external_count
from engagement.extensions import db
from engagement.models import CounterFeed, CounterKind, Site, StaffRole
from engagement.sites.service import create_site
from engagement.staff.members import create_member, find_member
from engagement.web.article import MORE_ARTICLES, THREAD_KEY, demo_article

DEMO_SLUG = "demo"
DEMO_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]
# The demo's admin: `make run` prints a one-time console sign-in link for this address.
DEMO_ADMIN = "admin@demo.example"

_CONVERSATION = [
    # (author, email, body, index of the comment replied to)
    ("Marta K.", "marta@example.org", "The timing with the ceasefire offer is hardly a coincidence.", None),
    ("David Osei", "david@example.org", "Agreed. Three days is a **photo-op**, not a truce.", 0),
    ("Lin Wei", "lin@example.org", "The Kremlin statement: https://www.kremlin.ru", 1),
    ("Jonas", "jonas@example.org", "Does anyone know which agreements are expected to be signed?", None),
    ("Priya N.", "priya@example.org", "Energy and payments, according to most reports so far.", 3),
]

# Held by the site's rules, so the console's queue has something to show: (author, email, body, reply to).
_HELD = [
    (
        "Deals4U",
        "deals@example.net",
        "Great read! Cheap flights: http://cheap-flights.top and http://deals.xyz",
        None,
    ),
    ("Sam", "sam@example.org", "Best casino bonus of the year, trust me.", None),
    ("Ana", "ana@example.org", "Sources: https://example.org/ceasefire and https://example.org/talks", 0),
]
HISTORY_DAYS = 90

_EXTERNAL = [
    (CounterKind.FANS, "facebook", 12_840),
    (CounterKind.FOLLOWERS, "x", 8_312),
    (CounterKind.SUBSCRIBERS, "youtube", 2_150),
]


def seed_demo() -> bool:
    """Create the demo site once, with comments and counters, and the demo admin member; returns False
    when the site already exists."""
    if find_member(DEMO_ADMIN) is None:
        create_member(email=DEMO_ADMIN, display_name="Demo Admin", role=StaffRole.ADMIN, site_slugs=[])
    if db.session.scalar(select(Site.id).where(Site.slug == DEMO_SLUG)) is not None:
        return False
    # Flood control off: the seed posts several comments from one address in the same second.
    site = create_site(
        slug=DEMO_SLUG,
        name="The Demo Courier",
        origins=DEMO_ORIGINS,
        settings={"moderation": "none", "flood_seconds": 0, "moderation_words": ["casino"]},
    )
    article = demo_article()
    posted = []
    for name, email, body, reply_to in _CONVERSATION:
        posted.append(
            post_comment(
                site=site,
                draft=NewComment(
                    thread_key=THREAD_KEY,
                    thread_url=f"{DEMO_ORIGINS[0]}/",
                    thread_title=article.title,
                    parent_id=posted[reply_to].comment.id if reply_to is not None else None,
                    author_name=name,
                    author_email=email,
                    body=body,
                ),
                client=Client(ip=None, user_agent="seed-demo"),
            )
        )
    for n, (key, title) in enumerate(MORE_ARTICLES):
        for i in range(n + 1):
            post_comment(
                site=site,
                draft=NewComment(
                    thread_key=key,
                    thread_url=f"{DEMO_ORIGINS[0]}/#{key}",
                    thread_title=title,
                    author_name=f"Reader {i + 1}",
                    author_email=f"reader{i + 1}@example.org",
                    body=f"Comment {i + 1} on this story.",
                ),
                client=Client(ip=None, user_agent="seed-demo"),
            )
    for name, email, body, reply_to in _HELD:
        post_comment(
            site=site,
            draft=NewComment(
                thread_key=THREAD_KEY,
                thread_url=f"{DEMO_ORIGINS[0]}/",
                parent_id=posted[reply_to].comment.id if reply_to is not None else None,
                author_name=name,
                author_email=email,
                body=body,
            ),
            client=Client(ip="192.0.2.10", user_agent="seed-demo"),
        )
    _counter_history(site)
    _counter_feeds(site)
    return True


# One counter feed in each state a newsroom meets, so the console, the API and the widget show what each
# looks like. Their accounts are on .example domains, which never resolve: a worker started on the demo
# tries them, fails and says so, but sends nothing anywhere.
_FEEDS = [
    # (platform, kind, account, state)
    ("mastodon", CounterKind.FOLLOWERS, "newsroom@social.example", "fresh"),
    ("bluesky", CounterKind.FOLLOWERS, "newsroom.bsky.example", "stale"),
    ("youtube", CounterKind.SUBSCRIBERS, "@newsroom", "needs_credentials"),
]


def _counter_feeds(site: Site) -> None:
    now = clock.now()
    for platform, kind, account, state in _FEEDS:
        if platform not in PLATFORMS:
            continue
        feed = CounterFeed(
            site_id=site.id,
            target="site",
            kind=kind.value,
            platform=platform,
            account=account,
            host=account.rpartition("@")[2] if platform == "mastodon" else platform,
            credentials_encrypted=None,
            interval_seconds=3 * 3600,
            enabled=True,
            consecutive_failures=0,
            needs_credentials=False,
            last_approximate=False,
            created_at=now - timedelta(days=30),
            updated_at=now,
        )
        db.session.add(feed)
        db.session.flush()
        synced_at = now - (timedelta(days=3) if state == "stale" else timedelta(hours=1))
        with clock.pinned(synced_at):
            count = 1_240 if state == "fresh" else 310 if state == "stale" else 905
            push_external_count(site=site, kind=kind, target="site", source=feed.source_name, count=count)
        feed = db.session.get(CounterFeed, feed.id)
        feed.last_success_at, feed.last_count = synced_at, count
        if state == "fresh":
            feed.next_attempt_at = now + timedelta(hours=2)
        else:
            feed.consecutive_failures = 14 if state == "stale" else 1
            feed.failing_since = synced_at + timedelta(hours=3)
            feed.last_error_at = now - timedelta(minutes=20)
            feed.last_error_status = 503 if state == "stale" else 403
            feed.last_error = (
                "The platform did not answer in time."
                if state == "stale"
                else "API key not valid. Please pass a valid API key."
            )
            feed.needs_credentials = state == "needs_credentials"
            feed.next_attempt_at = None if feed.needs_credentials else now + timedelta(minutes=40)
        db.session.commit()


def _counter_history(site: Site) -> None:
    """A push a day for ``HISTORY_DAYS`` days, growing to today's values (the console's growth chart)."""
    today = clock.now()
    for days_ago in range(HISTORY_DAYS, -1, -1):
        grown = (HISTORY_DAYS - days_ago) / HISTORY_DAYS
        with clock.pinned(today - timedelta(days=days_ago)):
            for kind, source, count in _EXTERNAL:
                value = round(count * (0.55 + 0.45 * grown**1.5))
                push_external_count(site=site, kind=kind, target="site", source=source, count=value)
