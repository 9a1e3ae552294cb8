"""The demo site that ``make run`` serves: the seed article, a short conversation and real counters."""

from __future__ import annotations

from sqlalchemy import select

from engagement.comments.drafts import Client, NewComment
from engagement.comments.service import post_comment
from engagement.counters.service import push_external_count
from engagement.extensions import db
from engagement.models import CounterKind, Site, StaffRole
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
        settings={"moderation": "none", "flood_seconds": 0},
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
    for kind, source, count in _EXTERNAL:
        push_external_count(site=site, kind=kind, target="site", source=source, count=count)
    return True
