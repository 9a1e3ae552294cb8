"""A site owner's counter feed in Chromium: add a Mastodon feed on the Feeds page, Sync now, see the
counters page show the number and the feed working; the platform then refuses the credentials and the
page says they must change. Both pages pass axe."""

from __future__ import annotations

import pytest

from engagement.counters.platforms import PLATFORMS
from tests.browser.conftest import SITE, LiveService
from tests.browser.console_pages import assert_accessible, sign_in
from tests.browser.playwright_api import Page, expect
from tests.fakes.platforms import Answer, FakePlatforms, mastodon
from tests.fakes.platforms import platforms as platforms  # the fixture

pytestmark = pytest.mark.browser


def test_an_admin_adds_a_feed_syncs_it_and_sees_its_health(
    service: LiveService, page: Page, platforms: FakePlatforms
) -> None:
    service.app.config["PLATFORM_URLS"] = dict.fromkeys(PLATFORMS, platforms.url)
    service.app.config["PLATFORMS_ALLOW_PRIVATE"] = True
    mastodon(platforms, {"newsroom": 1234})
    service.create_site()
    sign_in(service, page, to=f"/console/sites/{SITE}/counter-feeds")
    assert_accessible(page)
    page.get_by_label("Platform", exact=True).select_option("mastodon")
    page.get_by_label("Counter", exact=True).select_option("followers")
    page.get_by_label("Account on the platform").fill("not an account")
    page.get_by_role("button", name="Add feed").click()
    expect(page.get_by_text("Give the Mastodon account as")).to_be_visible()
    page.get_by_label("Account on the platform").fill("newsroom@mastodon.social")
    page.get_by_role("button", name="Add feed").click()
    expect(page.get_by_role("status")).to_contain_text("Feed added")
    expect(page.get_by_text("waiting for its first sync")).to_be_visible()

    page.goto(f"{service.url}/console/sites/{SITE}/counters")
    page.get_by_role("button", name="Sync now Mastodon newsroom@mastodon.social").click()
    expect(page.get_by_role("status")).to_have_text("Sync now: Mastodon newsroom@mastodon.social: 1,234")
    feeds = page.locator("table.feeds")
    expect(feeds.get_by_text("working")).to_be_visible()
    expect(page.locator("#followers .count-shown")).to_have_text("1.2k")
    assert_accessible(page)

    platforms.queue.append(Answer(401, {"error": "The access token is invalid"}))
    page.get_by_role("button", name="Sync now Mastodon newsroom@mastodon.social").click()
    expect(feeds.get_by_text("needs new credentials: not tried until they change")).to_be_visible()
    expect(feeds.get_by_text("The access token is invalid (HTTP 401)", exact=False)).to_be_visible()
    expect(page.locator("#followers .count-shown")).to_have_text("1.2k")  # the last good value stays
