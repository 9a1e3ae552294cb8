"""The console as `make run` leaves it: the demo admin finds held comments with their reasons, the author
panel, and three months of counters in the growth chart. Its pictures are the README's
(tests/browser/artifacts/console-readme-*.png, copied to docs/)."""

from __future__ import annotations

import pytest

from engagement.demo import seed_demo
from tests.browser.conftest import ARTIFACTS, LiveService
from tests.browser.console_pages import sign_in
from tests.browser.playwright_api import Page, expect

pytestmark = pytest.mark.browser


def test_the_demo_console_has_a_queue_with_reasons_and_a_growth_chart(
    service: LiveService, page: Page
) -> None:
    with service.app.app_context():
        seed_demo()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(service, page, to="/console/queue")
    page.wait_for_load_state("domcontentloaded")
    cards = page.locator(".cards > .card")
    expect(cards).to_have_count(3)
    expect(page.locator(".chips li", has_text="Links")).to_have_count(2)
    expect(page.locator(".chips li", has_text="Word match")).to_have_count(1)
    expect(page.locator(".card .parent")).to_have_count(1)  # the reply shows what it answers

    page.keyboard.press("j")
    expect(page.locator(".author-panel").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-readme-queue.png"))

    page.goto(f"{service.url}/console/sites/demo/counters?days=90")
    chart = page.locator("section.growth")
    expect(chart.locator("svg.chart polyline")).to_have_count(3)
    expect(page.locator(".growth-table tbody tr")).not_to_have_count(0)
    chart.locator("figure").screenshot(path=str(ARTIFACTS / "console-readme-counters.png"))
