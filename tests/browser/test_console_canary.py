"""Hostile values render inert on every console page: a script canary in real Chromium.

Every text a reader, an importer or another staff member controls (author name, body, user agent, thread
title and key, site name, word lists, ban notes, counter sources, member names, token labels, audit
details, subscriber targets, mail subjects and errors, webhook addresses, descriptions, errors and the
answers of endpoints) is seeded with markup that would set ``window.pwned`` if it ever ran. Then every
GET page of the console is opened, the ones added later included: the pages are listed from the app's URL
map, and a page whose URL needs a value this test does not know fails the test instead of being skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import url_for

from engagement.comments.drafts import Client, NewComment
from engagement.comments.service import post_comment
from engagement.counters.service import push_external_count
from engagement.extensions import db
from engagement.models import (
    CounterFeed,
    CounterKind,
    DeliveryStatus,
    ExportJob,
    OutboxMessage,
    OutboxStatus,
    StaffRole,
    Subscriber,
    WebhookAttempt,
    WebhookDelivery,
)
from engagement.moderation.bans import ban_author
from engagement.moderation.comments import update_comment
from engagement.sites.service import get_site
from engagement.sso.keys import add_key
from engagement.staff.members import create_member
from engagement.staff.service import create_token
from engagement.webhooks.service import create_endpoint
from tests.browser.conftest import LiveService, new_page
from tests.browser.console_pages import assert_accessible, sign_in
from tests.browser.playwright_api import Browser, Page

pytestmark = pytest.mark.browser

CANARY = (
    '<script>window.pwned=1</script><img src=x onerror="window.pwned=1">'
    '<svg onload="window.pwned=1"></svg>"\'><b onmouseover=window.pwned=1>x</b>'
)
RAN = "() => window.pwned === 1"
# Markup a hostile value would have added if it were not escaped: inline scripts, event handlers, frames.
INJECTED = """() => [...document.querySelectorAll(
    'script:not([src]), iframe, [onerror], [onload], [onmouseover]')].map(e => e.outerHTML.slice(0, 80))"""
SIGNED_OUT = {"console.sign_in_page", "console.link_page"}
# Files to download, not pages: a browser renders nothing of them.
DOWNLOADS = {"console.export_subscribers", "console.export_file"}


def seed_hostile_values(service: LiveService) -> dict[str, Any]:
    """One site full of hostile text; the values each console URL needs (``slug``, ``comment_id``)."""
    slug = service.create_site(
        "hostile", moderation="all", moderation_words=["casino", CANARY[:60]], max_links=5
    )
    with service.app.app_context():
        site = get_site(slug)
        site.name = f"Daily {CANARY}"[:200]
        admin = create_token(role=StaffRole.ADMIN, site_slugs=[], label=CANARY[:100])[0]
        hostile_client = Client(ip="192.0.2.7", user_agent=CANARY)
        first = post_comment(
            site=site,
            draft=NewComment(
                thread_key=f"2026/{CANARY}"[:200],
                thread_title=CANARY,
                author_name=CANARY[:200],
                author_email="mallory@example.org",
                body=f"{CANARY}\n\n[link](javascript:window.pwned=1) http://evil.top/{CANARY}",
            ),
            client=hostile_client,
        ).comment
        update_comment(token=admin, comment_id=first.id, status="approved")  # so it can be replied to
        post_comment(
            site=site,
            draft=NewComment(
                thread_key=first.thread.key,
                parent_id=first.id,
                author_name="Reply",
                author_email="reply@example.org",
                body=CANARY,
            ),
            client=hostile_client,
        )
        ban_author(
            token=admin,
            comment_id=first.id,
            kinds=["email"],
            action="spam",
            trash_existing=False,
            expires_at=None,
            note=CANARY,
        )
        push_external_count(
            site=site,
            kind=CounterKind.FOLLOWERS,
            target="site",
            source="mastodon",
            count=1200,
            observed_at=datetime.now(UTC),
        )
        db.session.add_all(
            [
                Subscriber(site_id=site.id, target=CANARY[:64], email="mallory@example.org"),
                OutboxMessage(
                    site_id=site.id,
                    message_id="<canary@test>",
                    template="confirm_subscription",
                    to_address="mallory@example.org",
                    subject=CANARY,
                    text_body=CANARY,
                    html_body=CANARY,
                    status=OutboxStatus.FAILED,
                    next_attempt_at=datetime.now(UTC),
                    last_error=CANARY,
                ),
            ]
        )
        db.session.commit()
        endpoint = create_endpoint(
            token=admin, slug=slug, url="https://hooks.example/x", events=[], description=CANARY, enabled=True
        )[0]
        endpoint.url = f"https://hooks.example/{CANARY}"
        endpoint.disabled_reason = CANARY
        hook_delivery = WebhookDelivery(
            endpoint_id=endpoint.id,
            message_id="msg_canary",
            event_type="comment.created",
            payload="{}",
            status=DeliveryStatus.FAILED,
            next_attempt_at=datetime.now(UTC),
            last_error=CANARY,
        )
        db.session.add(hook_delivery)
        db.session.flush()
        db.session.add(
            WebhookAttempt(
                endpoint_id=endpoint.id,
                delivery_id=hook_delivery.id,
                attempted_at=datetime.now(UTC),
                status_code=500,
                error=CANARY,
                response_excerpt=CANARY,
            )
        )
        db.session.commit()
        # A single sign-on key added by the hostile admin: its page names who added it.
        sso_key = add_key(
            token=admin, slug=slug, algorithm="HS256", public_key=None, kid="canary-key", grace=timedelta(0)
        )[0]
        # A counter feed whose account, error and refusal carry the hostile text (as a platform could
        # answer with it), on every table of the counters and feeds pages.
        feed = CounterFeed(
            site_id=site.id,
            target="site",
            kind="followers",
            platform="mastodon",
            account=f"mallory{CANARY}"[:300],
            interval_seconds=3600,
            enabled=True,
            consecutive_failures=2,
            needs_credentials=False,
            last_approximate=False,
            last_count=5,
            last_success_at=datetime.now(UTC),
            last_refused=CANARY[:400],
            last_error=CANARY[:400],
            last_error_status=500,
            failing_since=datetime.now(UTC),
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
        )
        db.session.add(feed)
        # An export asked for by the hostile admin that failed with the hostile text (on the exports page).
        db.session.add(
            ExportJob(
                id="canary-export",
                site_id=site.id,
                requested_by=CANARY[:200],
                status="failed",
                error=CANARY[:400],
                created_at=datetime.now(UTC),
            )
        )
        db.session.commit()
        member = create_member(
            email="mallory.staff@news.example",
            display_name=CANARY[:100],
            role=StaffRole.MODERATOR,
            site_slugs=[slug],
        )
        return {
            "slug": slug,
            "comment_id": first.id,
            "member_id": member.id,
            "token_id": admin.id,
            "endpoint_id": endpoint.id,
            "kid": sso_key.kid,
            "feed_id": feed.id,
        }


def console_pages(service: LiveService, values: dict[str, Any]) -> list[str]:
    """Every GET page of the console, its URL filled from ``values``."""
    urls = []
    for rule in service.app.url_map.iter_rules():
        if (
            rule.endpoint.startswith("console.")
            and "GET" in rule.methods
            and rule.endpoint not in SIGNED_OUT | DOWNLOADS
        ):
            unknown = set(rule.arguments) - set(values)
            assert not unknown, f"{rule.rule}: teach this test a value for {unknown}"
            with service.app.test_request_context():
                urls.append(url_for(rule.endpoint, **{name: values[name] for name in rule.arguments}))
    return sorted(urls)


@pytest.fixture
def page_without_csp(browser: Browser) -> Iterator[Page]:
    """The console's Content-Security-Policy would stop an injected script on its own; with it bypassed,
    only the escaping stands between the canary and ``window.pwned``, which is what this test checks."""
    page, errors = new_page(browser, bypass_csp=True)
    yield page
    page.context.close()
    assert errors == []


def test_hostile_values_run_nowhere_in_the_console(service: LiveService, page_without_csp: Page) -> None:
    page = page_without_csp
    values = seed_hostile_values(service)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(service, page, to="/console")
    pages = console_pages(service, values)
    assert len(pages) >= 8

    for url in pages:
        page.goto(service.url + url)
        page.wait_for_load_state("load")
        if url.startswith("/console/queue"):
            page.keyboard.press("j")  # selects a card: the author panel is fetched and inserted
            page.wait_for_timeout(600)
        page.mouse.move(200, 300)
        assert not page.evaluate(RAN), f"a hostile value ran on {url}"
        assert page.evaluate(INJECTED) == [], url
    for tab in ("pending", "approved", "spam", "trash", "all"):
        page.goto(f"{service.url}/console/queue?tab={tab}&site={values['slug']}")
        page.wait_for_load_state("load")
        page.keyboard.press("j")
        page.wait_for_timeout(600)
        page.mouse.move(200, 300)
        assert not page.evaluate(RAN), tab
        assert page.evaluate(INJECTED) == [], tab
    assert dialogs == []


def test_every_console_page_passes_axe_in_both_themes(service: LiveService, page: Page) -> None:
    # The pages each family's own tests check with axe, and the rest (the ban and author pages without
    # script, the confirmation pages, a refusal), all listed from the URL map, with hostile data on them.
    values = seed_hostile_values(service)
    sign_in(service, page, to="/console")
    checked = 0
    for url in [*console_pages(service, values), "/console/sites/no-such-site"]:
        response = page.goto(service.url + url)
        assert response is not None
        if not response.headers["content-type"].startswith("text/html"):
            continue  # /console/counts: the queue script's JSON
        page.wait_for_load_state("load")
        assert_accessible(page)
        checked += 1
    assert checked >= 15
