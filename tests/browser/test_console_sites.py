"""The console's site pages in real Chromium: a setting saved after fixing an invalid value, the embed
snippet's Copy button, closing and reopening a thread; axe-core on each page."""

from __future__ import annotations

import re

import pytest

from engagement.models import StaffRole
from engagement.sites.service import get_site
from tests.browser.conftest import SITE, THREAD, LiveService
from tests.browser.console_pages import assert_accessible, screenshot, sign_in
from tests.browser.playwright_api import Page, expect
from tests.browser.test_console_frame import PHONE, fits_the_width

pytestmark = pytest.mark.browser


def test_the_sites_list_links_to_each_sites_pages(service: LiveService, page: Page) -> None:
    service.create_site()
    service.create_site("sport")
    page.set_viewport_size(PHONE)
    sign_in(service, page, to="/console/sites")
    assert fits_the_width(page)
    expect(page.get_by_role("heading", name="Sites", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Threads of Sport")).to_be_visible()
    expect(page.get_by_role("heading", name="New site")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Settings of News").click()
    expect(page).to_have_url(f"{service.url}/console/sites/{SITE}")


def test_an_invalid_setting_is_shown_next_to_its_field_and_saved_once_fixed(
    service: LiveService, page: Page
) -> None:
    service.create_site()
    sign_in(service, page, to=f"/console/sites/{SITE}")
    max_links = page.get_by_label("Links that hold a comment")
    words = page.get_by_label("Words that hold a comment")
    max_links.fill("-1")
    words.fill("casino\nloan")
    page.get_by_label("Hold comments for moderation").select_option("all")
    page.get_by_role("button", name="Save settings").click()

    expect(max_links).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#max_links-error")).to_have_text(
        "Must be greater than or equal to 0 and less than or equal to 100."
    )
    expect(max_links).to_have_accessible_description(
        "Must be greater than or equal to 0 and less than or equal to 100."
    )
    # Everything typed is still there, valid or not.
    expect(max_links).to_have_value("-1")
    expect(words).to_have_value("casino\nloan")
    expect(page.get_by_label("Hold comments for moderation")).to_have_value("all")
    assert_accessible(page)
    screenshot(page, "settings")

    max_links.fill("4")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="Settings saved.")).to_be_visible()
    expect(page.get_by_label("Links that hold a comment")).to_have_value("4")
    page.set_viewport_size(PHONE)
    assert fits_the_width(page)
    with service.app.app_context():
        settings = get_site(SITE).settings
        assert (settings.max_links, settings.moderation, settings.moderation_words) == (
            4,
            "all",
            ("casino", "loan"),
        )


def test_copy_puts_the_embed_snippet_on_the_clipboard(service: LiveService, page: Page) -> None:
    service.create_site()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=service.url)
    sign_in(service, page, role=StaffRole.MODERATOR, sites=[SITE], to=f"/console/sites/{SITE}")
    # A moderator reads the settings: no control of the form is enabled, and there is nothing to save.
    expect(page.get_by_label("Links that hold a comment")).to_be_disabled()
    expect(page.get_by_role("button", name="Save settings")).to_have_count(0)

    snippet = page.get_by_label("Embed snippet")
    expect(snippet).to_have_value(re.compile(f'^<div id="engagement-comments" data-site="{SITE}"'))
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.locator("#embed-copied")).to_have_text("Copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == snippet.input_value()
    assert copied.endswith('/widget.js" async></script>')


def test_close_and_reopen_a_thread(service: LiveService, page: Page) -> None:
    service.create_site()
    assert service.post_comment("First.")["status_code"] == 201
    page.set_viewport_size(PHONE)
    sign_in(service, page, role=StaffRole.MODERATOR, sites=[SITE], to=f"/console/sites/{SITE}/threads")
    thread = page.locator(".threads > li").first
    expect(thread).to_contain_text(THREAD)
    expect(thread).to_contain_text("1 comment")
    expect(thread.get_by_role("link", name="Summit in Moscow")).to_be_visible()
    expect(thread.locator(".state")).to_have_text("Open")
    assert fits_the_width(page)
    assert_accessible(page)

    thread.get_by_role("button", name="Close Summit in Moscow").click()
    expect(page.get_by_role("status")).to_have_text("Summit in Moscow: now closed.")
    expect(thread.locator(".state")).to_have_text("Closed")
    refused = service.post_comment("Too late.", author_email="late@example.org")
    assert refused["status_code"] == 403, refused

    thread.get_by_role("button", name="Reopen Summit in Moscow").click()
    expect(page.get_by_role("status")).to_have_text("Summit in Moscow: now open.")
    expect(thread.locator(".state")).to_have_text("Open")
    assert service.post_comment("Open again.", author_email="again@example.org")["status_code"] == 201
