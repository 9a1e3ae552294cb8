"""The service's own HTML pages under their Content-Security-Policy, in real Chromium: the policy is sent,
and nothing the pages need is blocked by it (the widget on the demo page, its shadow-root stylesheet and
avatars, the embed page's copy button, the mailed-link pages' stylesheet)."""

from __future__ import annotations

import pytest

from engagement.demo import seed_demo
from tests.browser.conftest import LiveService
from tests.browser.playwright_api import ConsoleMessage, Page, expect

pytestmark = pytest.mark.browser

# Installed before any script of the page runs (Playwright's init scripts are not subject to the CSP).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`);
});
"""


@pytest.fixture
def watched(page: Page) -> tuple[Page, list[str]]:
    """The page, and the console errors it logs (Chromium logs every refusal by the CSP there too)."""
    console_errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        # Chromium asks every page for /favicon.ico, which the service does not have.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            console_errors.append(f"{message.text} {message.location}")

    page.on("console", record)
    page.add_init_script(RECORD_VIOLATIONS)
    return page, console_errors


def _open(page: Page, url: str) -> str:
    """Go to ``url``; the policy it was served with."""
    response = page.goto(url)
    assert response is not None and response.status < 500
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    return policy


def test_the_demo_page_renders_the_widget_under_its_policy_without_a_violation(
    service: LiveService, watched: tuple[Page, list[str]]
) -> None:
    page, console_errors = watched
    with service.app.app_context():
        seed_demo()
    page.set_viewport_size({"width": 900, "height": 3600})  # every lazily loaded avatar in view

    _open(page, service.url + "/")
    widget = page.locator("#engagement-comments")
    expect(widget.locator("li.c").first).to_be_visible()
    expect(page.locator("[data-engagement=counters] .n").first).not_to_have_text("–")
    widget.evaluate("host => Promise.all([...host.shadowRoot.querySelectorAll('img')].map(i => i.decode()))")

    # The widget's own stylesheet applied (its <style> is allowed by hash) and the page's (a file).
    assert widget.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 255, 255)"
    assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") == "672px"
    assert page.evaluate("window.__violations") == []
    assert console_errors == []


def test_the_embed_page_copy_button_works_under_its_policy_without_a_violation(
    service: LiveService, watched: tuple[Page, list[str]]
) -> None:
    page, console_errors = watched
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.url)

    _open(page, service.url + "/embed")
    page.get_by_role("button", name="Copy snippet").click()

    expect(page.locator("#copied")).to_have_text("Copied.")
    assert "widget.js" in page.evaluate("navigator.clipboard.readText()")
    assert page.evaluate("getComputedStyle(document.querySelector('pre')).backgroundColor") == (
        "rgb(243, 243, 243)"
    )
    assert page.evaluate("window.__violations") == []
    assert console_errors == []


def test_a_mailed_link_page_is_styled_under_its_policy_without_a_violation(
    service: LiveService, watched: tuple[Page, list[str]]
) -> None:
    page, _console_errors = watched

    _open(page, service.url + "/mail/confirm/not-a-token")

    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "544px"
    # The console also has the page's own 4xx status; what matters is that nothing was refused.
    assert page.evaluate("window.__violations") == []
