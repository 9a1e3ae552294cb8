"""The site owner's whole single sign-on path in Chromium: an admin adds a key on the console's Sign-in
page and copies its secret once; a page signed with it lets its reader comment under their account; the
admin revokes the key and the reader is a guest again."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.conftest import SITE, THREAD, LiveService, new_page
from tests.browser.console_pages import assert_accessible, sign_in
from tests.browser.playwright_api import Browser, Page, expect
from tests.browser.test_widget import comment_form, textbox, thread_widget
from tests.factories import sign_sso

pytestmark = pytest.mark.browser


def test_an_admin_adds_a_key_a_reader_signs_in_with_it_and_revoking_ends_it(
    service: LiveService, page: Page, browser: Browser, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    sign_in(service, page, to=f"/console/sites/{SITE}/sign-in")
    expect(page.get_by_text("No keys yet")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Key id (kid)").fill("web-1")
    page.get_by_role("button", name="Add key").click()
    secret = page.get_by_label("Secret").input_value()
    assert len(secret) >= 40
    page.get_by_role("link", name="Back to the sign-in keys").click()
    expect(page.get_by_text("web-1", exact=True)).to_be_visible()
    expect(page.get_by_text(secret)).to_have_count(0)

    with service.app.app_context():
        token = sign_sso(secret, aud=SITE, kid="web-1", sub="u-1", name="Ada Lovelace")
    reader, errors = new_page(browser)
    markup = (
        f'<div id="engagement-comments" data-site="{SITE}" data-thread="{THREAD}" data-sso-token="{token}">'
    )
    article = open_article(markup + "</div>", on=reader)
    form = comment_form(thread_widget(article))
    expect(form.get_by_text("Signed in as Ada Lovelace")).to_be_visible()
    textbox(form, "Comment").fill("Signed with the console's key.")
    form.get_by_role("button", name="Post Comment").click()
    expect(thread_widget(article).locator("li.c .si")).to_have_text("Signed in")

    page.get_by_role("link", name="Revoke key web-1").click()
    page.get_by_role("button", name="Revoke web-1").click()
    expect(page.get_by_role("status")).to_have_text("Key web-1 revoked: its sessions have ended.")
    # The reader's next post finds the session ended: they are told, and the guest form comes back.
    textbox(form, "Comment").fill("After the revocation.")
    form.get_by_role("button", name="Post Comment").click()
    expect(thread_widget(article).get_by_role("status")).to_have_text(
        "Your sign-in has expired. Please sign in again."
    )
    expect(textbox(comment_form(thread_widget(article)), "Name")).to_be_visible()
    expect(textbox(comment_form(thread_widget(article)), "Comment")).to_have_value("After the revocation.")
    reader.context.close()
    assert errors == []
