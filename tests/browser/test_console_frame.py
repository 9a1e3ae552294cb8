"""The console's frame in real Chromium: the signed-out and signed-in pages every member sees pass axe-core
in light and dark, fit a phone's width, and bring an expired session back to the page it was on."""

from __future__ import annotations

import pytest

from engagement.models import StaffRole
from engagement.staff.service import create_token
from tests.browser.conftest import LiveService
from tests.browser.console_pages import assert_accessible, sign_in
from tests.browser.playwright_api import Page, expect

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def fits_the_width(page: Page) -> bool:
    """Nothing on the page is wider than the viewport (no sideways scrolling)."""
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def test_signed_out_pages_are_accessible_at_phone_width(service: LiveService, page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{service.url}/console/sign-in")
    # With a field error showing, so its colours are checked too.
    page.get_by_label("Staff token").fill("not-a-token")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator(".error").first).to_be_visible()
    assert fits_the_width(page)
    assert_accessible(page)

    page.goto(f"{service.url}/console/link/not-a-real-link")
    expect(page.get_by_role("button")).to_be_visible()
    assert fits_the_width(page)
    assert_accessible(page)


def test_home_queue_and_edit_pages_are_accessible_at_phone_width(service: LiveService, page: Page) -> None:
    service.create_site(moderation="all")
    long_word = "x" * 300  # an unbroken word must wrap, not push the page sideways
    service.post_comment(f"A held comment with a {long_word}.", name="Reader")
    page.set_viewport_size(PHONE)
    sign_in(service, page, to="/console")
    assert fits_the_width(page)
    assert_accessible(page)

    page.get_by_role("link", name="Queue", exact=True).click()
    expect(page.locator(".cards > .card")).to_have_count(1)
    assert fits_the_width(page)
    assert_accessible(page)

    page.locator(".cards > .card").first.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Body (Markdown)")).to_be_visible()
    assert fits_the_width(page)
    assert_accessible(page)


def test_an_expired_session_signs_in_again_and_returns_to_the_page(service: LiveService, page: Page) -> None:
    service.create_site(moderation="all")
    sign_in(service, page, to="/console/queue?tab=spam")
    page.context.clear_cookies()  # as after the idle timeout: the cookie no longer opens a session

    page.reload()
    expect(page).to_have_url(f"{service.url}/console/sign-in?next=/console/queue?tab%3Dspam")
    with service.app.app_context():
        secret = create_token(role=StaffRole.ADMIN, site_slugs=[], label="laptop")[1]
    page.get_by_label("Staff token").fill(secret)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{service.url}/console/queue?tab=spam")
    expect(page.locator('[aria-current="page"][data-tab="spam"]')).to_be_visible()
