"""Single sign-on in the widget, in Chromium: the host page signs its reader in (data-sso-token, or
Engagement.login from its own script), the reader comments without name or email fields and their comment
carries the "Signed in" mark; a site that wants readers signed in shows guests its sign-in prompt."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from engagement.models import StaffRole
from engagement.sso import keys
from engagement.staff.service import create_token
from tests.browser.conftest import SITE, THREAD, LiveService
from tests.browser.playwright_api import Page, expect
from tests.browser.test_widget import comment_form, textbox, thread_widget
from tests.factories import sign_sso

pytestmark = pytest.mark.browser


def add_key(service: LiveService) -> str:
    """The site's HS256 secret, as its admin gets it once."""
    with service.app.app_context():
        token, _ = create_token(role=StaffRole.ADMIN, site_slugs=[], label="admin")
        _, secret = keys.add_key(
            token=token, slug=SITE, algorithm="HS256", public_key=None, kid="web", grace=timedelta(0)
        )
    return secret


def token_for(service: LiveService, secret: str, **claims: object) -> str:
    with service.app.app_context():
        return sign_sso(secret, aud=SITE, kid="web", **claims)


def markup(**data: str) -> str:
    attributes = "".join(f' data-{name.replace("_", "-")}="{value}"' for name, value in data.items())
    return f'<div id="engagement-comments" data-site="{SITE}" data-thread="{THREAD}"{attributes}></div>'


def test_a_signed_in_reader_comments_without_name_or_email_fields(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    secret = add_key(service)
    token = token_for(service, secret, sub="u-1", name="Ada Lovelace", email="ada@example.org")
    page = open_article(markup(sso_token=token))
    widget = thread_widget(page)
    form = comment_form(widget)

    expect(form.get_by_text("Signed in as Ada Lovelace")).to_be_visible()
    expect(textbox(form, "Name")).to_have_count(0)
    expect(textbox(form, "Email")).to_have_count(0)
    textbox(form, "Comment").fill("Posted under my account.")
    form.get_by_role("button", name="Post Comment").click()

    posted = widget.locator("li.c", has_text="Posted under my account.")
    expect(posted.locator(".who")).to_have_text("Ada Lovelace")
    expect(posted.locator(".si")).to_have_text("Signed in")
    # The session lives in this tab's sessionStorage, never a cookie.
    assert page.context.cookies() == []
    stored = page.evaluate(f"sessionStorage.getItem('engagement:sso:{SITE}')")
    assert json.loads(stored)["user"]["id"] == "u-1"

    # Signing out on the host page brings the guest form back, keeping what was typed.
    textbox(form, "Comment").fill("Half written")
    page.evaluate("Engagement.logout()")
    expect(textbox(comment_form(widget), "Name")).to_be_visible()
    expect(textbox(comment_form(widget), "Comment")).to_have_value("Half written")


def test_the_page_signs_its_reader_in_with_engagement_login(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    secret = add_key(service)
    page = open_article(markup())
    widget = thread_widget(page)
    expect(textbox(comment_form(widget), "Name")).to_be_visible()

    user = page.evaluate(
        "token => Engagement.login(token)", token_for(service, secret, sub="u-2", name="Grace")
    )
    assert user["name"] == "Grace"
    expect(comment_form(widget).get_by_text("Signed in as Grace")).to_be_visible()
    expect(textbox(comment_form(widget), "Email")).to_have_count(0)
    # The same token again is a replay: refused, and the page learns why.
    replay = page.evaluate(
        "token => Engagement.login(token).then(() => 'signed in', error => error.code)",
        token_for(service, secret, sub="u-3", jti="once"),
    )
    assert replay == "signed in"
    again = page.evaluate(
        "token => Engagement.login(token).then(() => 'signed in', error => error.code)",
        token_for(service, secret, sub="u-4", jti="once"),
    )
    assert again == "sso_token_replayed"


def test_guests_see_the_sign_in_prompt_where_the_site_requires_it(
    service: LiveService, open_article: Callable[..., Page], host_pages
) -> None:
    service.create_site(sso_required=True)
    add_key(service)
    page = open_article(markup(login_url=f"{host_pages.origin}/sign-in"))
    widget = thread_widget(page)
    expect(widget.get_by_text("Sign in to comment.")).to_be_visible()
    expect(widget.locator("form")).to_have_count(0)
    # The host may take the prompt itself (its own dialog) by cancelling the loginPrompt event.
    page.evaluate(
        """() => document.getElementById("engagement-comments").addEventListener("loginPrompt", (event) => {
             window.__prompted = event.detail.site; event.preventDefault(); })"""
    )
    widget.get_by_role("link", name="Sign in").click()
    assert page.evaluate("window.__prompted") == SITE
    assert page.url.endswith(".html")  # not navigated to the sign-in page
