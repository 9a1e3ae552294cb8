"""The counters page in real Chromium: ninety days of history as a chart and a table, the period links,
a push through the form, and the page's accessibility in both colour schemes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engagement.config import utc_now
from engagement.counters import service as counters
from engagement.models import CounterKind, StaffRole
from engagement.sites.service import get_site
from tests.browser.conftest import LiveService
from tests.browser.console_pages import assert_accessible, screenshot, sign_in
from tests.browser.playwright_api import Page, expect

pytestmark = pytest.mark.browser

PAGE = "/console/sites/news/counters"


def seed_history(service: LiveService, days: int) -> None:
    """A push a day for ``days`` days up to now, each written on its own day: the app's clock is moved
    back for the seeding (as the counters tests move theirs), and the real one put back."""
    app = service.app
    real = app.config["CLOCK"]
    end = utc_now()
    with app.app_context():
        site = get_site("news")
        try:
            for n in range(days):
                moment = end - timedelta(days=days - 1 - n)
                app.config["CLOCK"] = lambda moment=moment: moment
                for kind, value in (
                    (CounterKind.FANS, 1000 + 40 * n),
                    (CounterKind.FOLLOWERS, 500 + (n // 10) * 120),
                    (CounterKind.SUBSCRIBERS, 200 + 3 * n),
                ):
                    counters.push_external_count(
                        site=site, kind=kind, target="site", source="youtube", count=value
                    )
        finally:
            app.config["CLOCK"] = real


def test_the_counters_page_charts_history_switches_periods_and_takes_a_push(
    service: LiveService, page: Page
) -> None:
    service.create_site("news")
    seed_history(service, 90)
    sign_in(service, page, role=StaffRole.MODERATOR, sites=["news"], to=PAGE)

    expect(page.get_by_role("heading", name="Counters of News")).to_be_visible()
    chart = page.get_by_role("img", name="Growth of site over the last 30 days")
    expect(chart).to_be_visible()
    expect(page.locator("svg.chart polyline")).to_have_count(3)
    table = page.locator("table.growth-table tbody tr")
    expect(table).to_have_count(30)
    expect(table.first).to_contain_text("4,560")  # fans on the last day: 1000 + 40 * 89

    page.get_by_role("link", name="90 days").click()
    expect(page.get_by_role("img", name="Growth of site over the last 90 days")).to_be_visible()
    expect(page.get_by_text("Value at the end of each week")).to_be_visible()
    expect(table).to_have_count(13)
    expect(table.last).to_contain_text("1,200")  # 84 days before the last: 1000 + 40 * 5
    assert_accessible(page)
    screenshot(page, "counters-chart")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "counters-chart-dark")
    page.emulate_media(color_scheme="light")

    page.get_by_role("link", name="365 days").click()
    expect(page.get_by_text("Value at the end of each month")).to_be_visible()
    expect(page.get_by_role("link", name="365 days")).to_have_attribute("aria-current", "page")

    followers = page.locator("section#followers")
    followers.get_by_label("Platform", exact=True).fill("youtube")
    followers.get_by_label("Value on the platform").fill("-3")
    followers.get_by_role("button", name="Push followers").click()
    expect(followers.locator("#followers-count-error")).to_contain_text("greater than or equal to 0")
    expect(followers.get_by_label("Value on the platform")).to_have_value("-3")
    assert_accessible(page, themes=("light",))

    followers.get_by_label("Value on the platform").fill("12345")
    followers.get_by_role("button", name="Push followers").click()
    expect(page.get_by_role("status")).to_have_text("Followers: the new value is saved.")
    expect(page.locator("section#followers h2")).to_contain_text("12k")
    expect(page.locator("section#followers")).to_contain_text("12,345")
    expect(page.get_by_role("link", name="365 days")).to_have_attribute("aria-current", "page")
    assert_accessible(page)


def test_the_counters_page_fits_a_phone(service: LiveService, page: Page) -> None:
    service.create_site("news")
    seed_history(service, 3)
    page.set_viewport_size({"width": 360, "height": 800})
    sign_in(service, page, to=PAGE)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert_accessible(page)
