"""A site's record pages in real Chromium: subscribers, the outbox with Retry, the audit log; axe-core in
light and dark on each, and each fits a phone's width."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engagement import audit
from engagement.extensions import db
from engagement.models import OutboxMessage, OutboxStatus, StaffRole, Subscriber
from engagement.sites.service import get_site
from tests.browser.conftest import SITE, LiveService
from tests.browser.console_pages import assert_accessible, screenshot, sign_in
from tests.browser.playwright_api import Page, expect
from tests.browser.test_console_frame import PHONE, fits_the_width

pytestmark = pytest.mark.browser


def seed_records(service: LiveService) -> None:
    """A confirmed subscriber, a failed message and an audit entry on the site."""
    service.create_site()
    with service.app.app_context():
        site = get_site(SITE)
        now = datetime.now(UTC)
        db.session.add_all(
            [
                Subscriber(site_id=site.id, target="site", email="kim@example.org", confirmed_at=now),
                OutboxMessage(
                    site_id=site.id,
                    message_id="<failed@test>",
                    template="confirm_subscription",
                    to_address="kim@example.org",
                    subject="Confirm your subscription",
                    text_body="text",
                    html_body="<p>html</p>",
                    status=OutboxStatus.FAILED,
                    attempts=8,
                    next_attempt_at=now,
                    last_error="550 mailbox unavailable",
                ),
            ]
        )
        audit.record(actor="ada", action="settings_changed", site_id=site.id, details={"max_links": 2})
        db.session.commit()


def test_a_moderator_reads_the_records_of_their_site_and_retries_a_failed_message(
    service: LiveService, page: Page
) -> None:
    seed_records(service)
    page.set_viewport_size(PHONE)
    sign_in(service, page, role=StaffRole.MODERATOR, sites=[SITE], to=f"/console/sites/{SITE}/subscribers")
    expect(page.get_by_role("table")).to_contain_text("kim@example.org")
    assert fits_the_width(page)
    assert_accessible(page)

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("table")).to_contain_text("settings_changed")
    page.get_by_label("Comment id").fill("yesterday")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#comment_id-error")).to_be_visible()
    assert fits_the_width(page)
    assert_accessible(page)
    screenshot(page, "audit-field-error")

    page.get_by_role("link", name="Mail", exact=True).click()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("550 mailbox unavailable")
    assert fits_the_width(page)
    assert_accessible(page)
    page.get_by_role("button", name="Retry Confirm your subscription to kim@example.org").click()
    expect(page.get_by_role("status")).to_contain_text("queued again")
    expect(page.get_by_role("list", name="Messages")).to_contain_text("No messages here.")
    page.get_by_role("link", name="Queued").click()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("Confirm your subscription")
    screenshot(page, "outbox")
