"""The embeddable widget as readers meet it: real Chromium, the real app, an article on another origin."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from engagement.comments.avatars import inline_identicon
from engagement.demo import seed_demo
from engagement.extensions import db
from engagement.models import Comment
from engagement.models.mail import MailContact, OutboxMessage, ReplySubscription, Subscriber
from tests.browser.conftest import ARTIFACTS, SITE, THREAD, LiveService, new_page
from tests.browser.playwright_api import Browser, Locator, Page, Request, Route, expect

pytestmark = pytest.mark.browser

AXE_SCRIPT = Path(__file__).with_name("vendor") / "axe.min.js"
THREAD_MARKUP = f'<div id="engagement-comments" data-site="{SITE}" data-thread="{THREAD}"></div>'
COUNTERS_MARKUP = f'<div data-engagement="counters" data-site="{SITE}"></div>'
HOSTILE_CSS = "<style>* { display: inline !important; color: red !important }</style>"
# What the browser computed for the widget's parts: the fingerprint hostile page CSS must not change.
COMPUTED_STYLES = """host => [host, ...host.shadowRoot.querySelectorAll("*")].map(el => {
  const style = getComputedStyle(el);
  return [el.tagName, el.className, style.display, style.color, style.backgroundColor, style.position,
          style.fontSize, style.marginLeft, style.borderTopWidth];
})"""
# Every way rendered content could still run script: script-like elements, handlers, script-bearing URLs.
LIVE_SCRIPT_ATTRIBUTES = """host => {
  const root = host.shadowRoot;
  const found = [...root.querySelectorAll("script, iframe, object, embed, .text :is(base, form, svg, math)")]
    .map(el => el.tagName);
  for (const el of root.querySelectorAll("*")) {
    for (const { name, value } of el.attributes) {
      const url = value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
      if (name.startsWith("on") || /^(javascript|vbscript|data):/.test(url)) {
        found.push(`${el.tagName} ${name}=${value}`);
      }
    }
  }
  return found;
}"""
# OWASP filter-evasion classics, as a comment body (Markdown), a name and a website.
XSS_BODIES = [
    "<script>window.__xss = 'script'</script>",
    "<img src=x onerror=\"window.__xss = 'img'\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<svg/onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<a href=\"javascript:window.__xss='link'\">click</a>",
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">entities</a>',
    "[markdown](javascript:alert(1))",
    "[markdown upper](JaVaScRiPt:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    '<<SCRIPT>alert("XSS");//<</SCRIPT>',
    '"><script>alert(1)</script>',
    "<details open ontoggle=alert(1)>x</details>",
    "<input autofocus onfocus=alert(1)>",
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    '<div style="background:url(javascript:alert(1))">styled</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<body onload=alert(1)>",
    "`<img src=x onerror=alert(1)>` in code",
    'http://example.org/"onmouseover="alert(1)',
]
XSS_NAMES = [
    "Robert'); alert(1);//",
    '" onmouseover="alert(1)',
    "<img src=x onerror=alert(1)>",
    "</time><script>alert(1)</script>",
]
XSS_URLS = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    'http://example.org/"onmouseover="alert(1)',
    'https://example.org/#"><img src=x onerror=alert(1)>',
    "data:text/html,<script>alert(1)</script>",
]


def thread_widget(page: Page) -> Locator:
    return page.locator("#engagement-comments")


def comment_form(widget: Locator) -> Locator:
    return widget.locator("form").first


def textbox(form: Locator, label: str) -> Locator:
    return form.get_by_role("textbox", name=label, exact=True)


def fill_comment(
    form: Locator, body: str, *, name: str = "Tess Reader", email: str = "tess@example.org"
) -> None:
    textbox(form, "Comment").fill(body)
    textbox(form, "Name").fill(name)
    textbox(form, "Email").fill(email)


def post_through_form(widget: Locator, body: str, **author: str) -> None:
    form = comment_form(widget)
    fill_comment(form, body, **author)
    form.get_by_role("button", name="Post Comment").click()
    # The form empties only once the service has taken the comment.
    expect(textbox(form, "Comment")).to_have_value("")


def test_thread_shows_comments_with_nested_replies_avatars_and_times(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    first = service.post_comment("First, with **bold** words", name="Marta")
    service.post_comment("A reply to Marta", name="David", parent_id=first["comment"]["id"])
    service.post_comment("Second top-level comment", name="Lin")

    widget = thread_widget(open_article(THREAD_MARKUP))

    expect(widget.get_by_role("heading", name="3 Comments")).to_be_visible()
    top_level = widget.locator("ol.list > li")
    expect(top_level).to_have_count(2)
    expect(top_level.first.locator("strong")).to_have_text("bold")
    expect(top_level.first.locator(".replies > li")).to_contain_text("A reply to Marta")
    expect(top_level.first.locator("time").first).to_have_attribute(
        "datetime", first["comment"]["created_at"]
    )
    expect(top_level.first.locator("time").first).to_have_text(re.compile(r"now|seconds? ago"))
    # The identicon is drawn in the page (avatar.js), hidden from assistive technology like an alt="" image.
    avatar = top_level.first.locator("svg.av").first
    expect(avatar).to_have_attribute("aria-hidden", "true")
    expect(avatar.locator("path")).to_have_count(2)


def test_a_long_thread_is_drawn_whole_and_in_order_with_its_avatars_drawn_in_the_page(
    service: LiveService, open_article: Callable[..., Page], page: Page
) -> None:
    """A page is drawn a screenful first, then in chunks between frames: every comment arrives, in the
    page's order, each with the service's identicon drawn in the page, and no avatar is requested."""
    service.create_site()
    for number in range(40):
        posted = service.post_comment(f"Comment number {number}", author_email=f"reader{number}@example.org")
        if number % 4 == 0:
            service.post_comment(
                f"A reply to {number}",
                parent_id=posted["comment"]["id"],
                author_email=f"r{number}@example.org",
            )
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    widget = thread_widget(open_article(THREAD_MARKUP))
    top_level = widget.locator("ol.list > li")
    expect(top_level).to_have_count(40)
    expect(widget.locator("li.c")).to_have_count(50)
    texts = top_level.evaluate_all(
        "items => items.map(li => li.querySelector(':scope > .row .text').textContent)"
    )
    assert texts == [f"Comment number {number}" for number in range(40)]
    assert [url for url in asked if "/avatars/" in url] == []

    listed = service.app.test_client().get(f"/api/v1/sites/{SITE}/comments", query_string={"thread": THREAD})
    served = [str(inline_identicon(comment["author"]["avatar"])) for comment in listed.json["comments"]]
    drawn = top_level.evaluate_all(
        "items => items.map(li => li.querySelector(':scope > .row > svg.av').outerHTML)"
    )
    assert drawn == served
    assert len(set(drawn)) == 40  # forty addresses, forty pictures


def test_posting_a_comment_shows_it_in_the_thread_and_counts_it(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    page = open_article(THREAD_MARKUP)
    widget = thread_widget(page)
    expect(widget.get_by_role("heading", name="0 Comments")).to_be_visible()

    post_through_form(widget, "Thanks for the *clear* summary.")

    expect(widget.locator("li.c em")).to_have_text("clear")
    expect(widget.get_by_role("heading", name="1 Comment")).to_be_visible()
    expect(widget.get_by_role("status")).to_have_text("Your comment has been posted.")
    expect(textbox(comment_form(widget), "Comment")).to_have_value("")
    page.reload()
    expect(widget.locator("li.c", has_text="Thanks for the clear summary.")).to_be_visible()


def test_empty_name_and_bad_email_are_flagged_next_to_their_fields_before_posting(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    page = open_article(THREAD_MARKUP)
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    form = comment_form(thread_widget(page))

    textbox(form, "Comment").fill("Hello")
    textbox(form, "Email").fill("not-an-email")
    form.get_by_role("button", name="Post Comment").click()

    name = textbox(form, "Name")
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("Required.")
    expect(textbox(form, "Email")).to_have_accessible_description(
        "Your email address will not be published. Please enter a valid email address."
    )
    expect(textbox(form, "Comment")).to_have_attribute("aria-invalid", "false")
    assert posts == []


def test_a_field_error_from_the_server_is_shown_next_to_its_field(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    form = comment_form(thread_widget(open_article(THREAD_MARKUP)))

    # A zero-width space is not blank to the browser's trim(), but the server knows it is no name.
    fill_comment(form, "Hello", name="\u200b")
    form.get_by_role("button", name="Post Comment").click()

    expect(textbox(form, "Name")).to_have_accessible_description("Please enter your name.")
    expect(textbox(form, "Name")).to_be_focused()
    expect(form.get_by_role("button", name="Post Comment")).to_be_enabled()


def test_a_reply_appears_under_its_parent_and_replies_stop_at_the_maximum_depth(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site(max_depth=2)
    service.post_comment("The parent comment")
    widget = thread_widget(open_article(THREAD_MARKUP))
    parent = widget.locator("ol.list > li").first

    parent.get_by_role("button", name="Reply").click()
    reply_form = parent.locator("form")
    expect(textbox(reply_form, "Comment")).to_be_focused()
    fill_comment(reply_form, "My answer to the parent")
    reply_form.get_by_role("button", name="Post Comment").click()

    reply = parent.locator(".replies > li")
    expect(reply).to_contain_text("My answer to the parent")
    expect(reply_form).to_have_count(0)
    expect(reply.get_by_role("button", name="Reply")).to_have_count(0)
    expect(widget.get_by_role("heading", name="2 Comments")).to_be_visible()


def test_reply_form_cancel_closes_it_and_returns_focus(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    service.post_comment("The parent comment")
    parent = thread_widget(open_article(THREAD_MARKUP)).locator("ol.list > li").first

    parent.get_by_role("button", name="Reply").click()
    parent.get_by_role("button", name="Cancel").click()

    expect(parent.locator("form")).to_have_count(0)
    expect(parent.get_by_role("button", name="Reply")).to_be_focused()


def cut_short(route: Route) -> None:
    """The service answers, and the browser gets part of the body: a reload or a followed link did that."""
    route.fulfill(response=route.fetch(), body='{"likes": 1, "li')


# The service counted the like even when its answer was cut short, so the browser must not forget it (it
# rolled back: "Like 1" unpressed after the reload).
@pytest.mark.parametrize("answer", ["read", "cut short"])
def test_like_and_unlike_toggle_the_count_and_survive_a_reload(
    service: LiveService, open_article: Callable[..., Page], answer: str
) -> None:
    service.create_site()
    service.post_comment("A likeable comment")
    page = open_article(THREAD_MARKUP)
    like = thread_widget(page).get_by_role("button", name=re.compile(r"^Like"))
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like).to_have_accessible_name("Like 0")

    if answer == "cut short":
        page.route("**/likes", cut_short)
    with page.expect_response(lambda response: response.url.endswith("/likes") and response.ok):
        like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_accessible_name("Like 1")
    expect(thread_widget(page).get_by_role("status")).not_to_have_text("Please try again.")

    page.unroute("**/likes")
    page.reload()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_accessible_name("Like 1")
    with page.expect_response(lambda response: response.url.endswith("/likes") and response.ok):
        like.click()
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like).to_have_accessible_name("Like 0")


def test_a_like_the_service_refuses_is_rolled_back(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    posted = service.post_comment("Soon deleted by its author")
    page = open_article(THREAD_MARKUP)
    like = thread_widget(page).get_by_role("button", name=re.compile(r"^Like"))
    expect(like).to_have_accessible_name("Like 0")
    service.delete_comment(posted)

    with page.expect_response(lambda response: response.url.endswith("/likes")):
        like.click()

    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like).to_have_accessible_name("Like 0")
    expect(thread_widget(page).get_by_role("status")).to_have_text("Please try again.")


@pytest.mark.parametrize("answer", ["read", "cut short"])
def test_follow_and_unfollow_update_the_followers_count(
    browser: Browser, service: LiveService, open_article: Callable[..., Page], answer: str
) -> None:
    service.create_site()
    page = open_article(COUNTERS_MARKUP)
    counters = page.locator("[data-engagement=counters]")
    followers = counters.locator("li", has_text="Followers").locator(".n")
    follow = counters.get_by_role("button", name="Follow")
    expect(counters.get_by_role("heading", name="Stay Connected")).to_be_visible()
    expect(followers).to_have_text("0")

    if answer == "cut short":
        page.route("**/engagement/followers*", cut_short)
    with page.expect_response(lambda response: "/engagement/followers" in response.url and response.ok):
        follow.click()
    expect(follow).to_have_attribute("aria-pressed", "true")
    expect(followers).to_have_text("1")
    page.unroute("**/engagement/followers*")
    page.reload()
    expect(follow).to_have_attribute("aria-pressed", "true")
    expect(followers).to_have_text("1")

    other_reader, errors = new_page(browser)
    open_article(COUNTERS_MARKUP, on=other_reader)
    other_counters = other_reader.locator("[data-engagement=counters]")
    expect(other_counters.locator("li", has_text="Followers").locator(".n")).to_have_text("1")
    expect(other_counters.get_by_role("button", name="Follow")).to_have_attribute("aria-pressed", "false")
    other_reader.context.close()
    assert errors == []

    with page.expect_response(lambda response: "/engagement/followers" in response.url and response.ok):
        follow.click()
    expect(follow).to_have_attribute("aria-pressed", "false")
    expect(followers).to_have_text("0")


def test_the_counts_are_one_shared_request_and_the_readers_state_is_asked_only_while_it_may_hold_one(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    asked: list[tuple[str, str | None]] = []

    def note(request: Request) -> None:
        if "/engagement" in request.url and request.method == "GET":
            asked.append(
                (request.url.split("?")[0].rsplit("/", 1)[1], request.headers.get("x-engagement-reader"))
            )

    page = open_article(COUNTERS_MARKUP)
    page.on("request", note)
    counters = page.locator("[data-engagement=counters]")
    follow = counters.get_by_role("button", name="Follow")
    expect(follow).to_be_enabled()
    page.reload()
    expect(follow).to_be_enabled()
    seen_before_following = list(asked)

    with page.expect_response(lambda response: "/engagement/followers" in response.url and response.ok):
        follow.click()
    asked.clear()
    page.reload()
    expect(follow).to_have_attribute("aria-pressed", "true")

    # The counts never carry the reader (a shared answer); a reader who has joined nothing is not asked again.
    assert [where for where, reader in seen_before_following if reader] == []
    assert [where for where, _ in seen_before_following] == ["engagement"]
    assert sorted(where for where, _ in asked) == ["engagement", "reader"]
    assert [reader is not None for where, reader in asked if where == "reader"] == [True]


def test_subscribe_asks_for_an_email_and_the_service_mails_a_confirmation(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    page = open_article(COUNTERS_MARKUP)
    counters = page.locator("[data-engagement=counters]")
    subscribe = counters.get_by_role("list").get_by_role("button", name="Subscribe")
    expect(subscribe).to_have_attribute("aria-expanded", "false")
    subscribe.click()
    expect(subscribe).to_have_attribute("aria-expanded", "true")
    form = counters.locator("form")
    textbox(form, "Email").fill("not an address")
    form.get_by_role("button", name="Subscribe").click()
    expect(form.locator(".err")).to_have_text("Please enter a valid email address.")

    textbox(form, "Email").fill("fan@example.org")
    with page.expect_response(
        lambda response: response.url.endswith("/subscribers") and response.status == 202
    ):
        form.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_have_text("Check your inbox to confirm.")
    with service.app.app_context():
        [subscriber] = db.session.scalars(select(Subscriber)).all()
        assert (subscriber.email, subscriber.confirmed_at) == ("fan@example.org", None)
        [message] = db.session.scalars(select(OutboxMessage)).all()
        assert message.to_address == "fan@example.org"
    expect(counters.locator("li", has_text="Subscribers").locator(".n")).to_have_text("0")


def test_notify_me_of_follow_up_comments_opts_in_by_email(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    widget = thread_widget(open_article(THREAD_MARKUP))
    form = comment_form(widget)
    notify = form.get_by_role("checkbox", name="Notify me of follow-up comments by email.")
    expect(notify).not_to_be_checked()
    fill_comment(form, "Tell me when someone answers.", email="curious@example.org")
    notify.check()
    form.get_by_role("button", name="Post Comment").click()
    expect(textbox(form, "Comment")).to_have_value("")
    with service.app.app_context():
        [contact] = db.session.scalars(select(MailContact)).all()
        assert (contact.email, contact.confirmed_at) == ("curious@example.org", None)
        assert len(db.session.scalars(select(ReplySubscription)).all()) == 1
        assert [m.to_address for m in db.session.scalars(select(OutboxMessage))] == ["curious@example.org"]


def test_load_more_pages_through_the_top_level_comments(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    for number in range(5):
        service.post_comment(f"Comment number {number}")
    widget = thread_widget(open_article(THREAD_MARKUP.replace("<div ", '<div data-limit="2" ')))
    top_level = widget.locator("ol.list > li")
    more = widget.get_by_role("button", name="Load more comments")
    expect(top_level).to_have_count(2)

    more.click()
    expect(top_level).to_have_count(4)
    more.click()
    expect(top_level).to_have_count(5)

    expect(more).to_be_hidden()
    expect(top_level.nth(4)).to_contain_text("Comment number 4")
    expect(top_level.nth(4)).to_be_focused()


def test_replies_a_page_left_out_load_a_batch_at_a_time_under_their_parents(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    root = service.post_comment("The busy comment")["comment"]["id"]
    replies = [service.post_comment(f"Reply number {n}", parent_id=root)["comment"]["id"] for n in range(12)]
    # The page carries replies 0-9; these four wait: two top replies, an answer to each end.
    service.post_comment("An answer to the last reply", parent_id=replies[11])
    service.post_comment("An answer to the first reply", parent_id=replies[0])
    page = open_article(THREAD_MARKUP.replace("<div ", '<div data-limit="3" '))
    busy = thread_widget(page).locator("ol.list > li").first
    expect(busy.locator("li.c")).to_have_count(10)

    # With the keyboard: the first batch of three, then the last one.
    busy.get_by_role("button", name="Show 4 more replies").press("Enter")
    expect(busy.locator("li.c")).to_have_count(13)
    expect(busy.locator("li.c", has_text="Reply number 10")).to_be_focused()
    last = busy.locator("li.c", has_text="Reply number 11")
    expect(last.locator(".replies > li")).to_have_text(re.compile("An answer to the last reply"))
    busy.get_by_role("button", name="Show 1 more reply").press("Enter")

    first = busy.locator("li.c", has_text="Reply number 0")
    answer = first.locator(".replies > li")
    expect(answer).to_contain_text("An answer to the first reply")
    expect(answer).to_be_focused()
    expect(busy.locator("li.c")).to_have_count(14)
    expect(busy.get_by_role("button", name=re.compile("more repl"))).to_have_count(0)


def test_sorting_newest_first_reloads_the_thread(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    for number in range(3):
        service.post_comment(f"Comment number {number}")
    widget = thread_widget(open_article(THREAD_MARKUP))
    top_level = widget.locator("ol.list > li")
    expect(top_level.first).to_contain_text("Comment number 0")

    widget.get_by_role("combobox", name="Sort by").select_option("newest")

    expect(top_level.first).to_contain_text("Comment number 2")
    expect(top_level).to_have_count(3)


def test_own_comment_can_be_edited_and_deleted_while_the_edit_window_is_open(
    browser: Browser, service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    page = open_article(THREAD_MARKUP)
    widget = thread_widget(page)
    post_through_form(widget, "Original text")
    mine = widget.locator("ol.list > li").first

    mine.get_by_role("button", name="Edit").click()
    editor = mine.locator("form")
    expect(textbox(editor, "Comment")).to_have_value("Original text")
    textbox(editor, "Comment").fill("Corrected text")
    editor.get_by_role("button", name="Save").click()
    expect(mine).to_contain_text("Corrected text")
    expect(mine.locator(".meta")).to_contain_text("(edited)")

    other_reader, errors = new_page(browser)
    other_widget = thread_widget(open_article(THREAD_MARKUP, on=other_reader))
    expect(other_widget.locator("li.c")).to_contain_text("Corrected text")
    expect(other_widget.get_by_role("button", name="Edit")).to_have_count(0)
    other_reader.context.close()
    assert errors == []

    page.reload()
    page.once("dialog", lambda dialog: dialog.accept())
    mine.get_by_role("button", name="Delete").click()
    expect(widget.locator("li.c")).to_have_count(0)
    expect(widget.get_by_role("heading", name="0 Comments")).to_be_visible()
    page.reload()
    expect(widget.get_by_role("heading", name="0 Comments")).to_be_visible()
    expect(widget.locator("li.c")).to_have_count(0)


def test_a_held_comment_shows_the_moderation_notice_to_its_author_only_until_approved(
    browser: Browser, service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site(moderation="all")
    page = open_article(THREAD_MARKUP)
    widget = thread_widget(page)

    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        post_through_form(widget, "Please check me first")
    held_id = answer.value.json()["comment"]["id"]

    notice = widget.locator("li.c", has_text="Please check me first").get_by_text(
        "Your comment is awaiting moderation."
    )
    expect(notice).to_be_visible()
    expect(widget.get_by_role("heading", name="0 Comments")).to_be_visible()
    page.reload()
    expect(notice).to_be_visible()

    other_reader, errors = new_page(browser)
    other_widget = thread_widget(open_article(THREAD_MARKUP, on=other_reader))
    expect(other_widget.get_by_role("heading", name="0 Comments")).to_be_visible()
    expect(other_widget.locator("li.c")).to_have_count(0)
    other_reader.context.close()
    assert errors == []

    service.approve(held_id)
    page.reload()
    expect(widget.get_by_role("heading", name="1 Comment")).to_be_visible()
    expect(widget.locator("li.c", has_text="Please check me first")).to_have_count(1)
    expect(notice).to_have_count(0)


def test_a_comment_can_be_written_and_posted_with_the_keyboard_alone(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    page = open_article(THREAD_MARKUP)
    widget = thread_widget(page)
    form = comment_form(widget)
    expect(form).to_be_visible()

    page.keyboard.press("Tab")
    expect(widget.get_by_role("combobox", name="Sort by")).to_be_focused()
    for label, text in (("Comment", "Typed, not clicked"), ("Name", "Kim"), ("Email", "kim@example.org")):
        page.keyboard.press("Tab")
        expect(textbox(form, label)).to_be_focused()
        page.keyboard.type(text)
    page.keyboard.press("Tab")
    expect(textbox(form, "Website")).to_be_focused()
    page.keyboard.press("Tab")
    expect(form.get_by_role("checkbox", name="Save my name")).to_be_focused()
    page.keyboard.press("Tab")
    expect(form.get_by_role("checkbox", name="Notify me")).to_be_focused()
    page.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Post Comment")).to_be_focused()
    page.keyboard.press("Enter")

    expect(widget.locator("li.c", has_text="Typed, not clicked")).to_be_focused()


def test_name_email_and_website_are_remembered_only_when_asked(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    page = open_article(THREAD_MARKUP)
    widget = thread_widget(page)
    form = comment_form(widget)
    remember = form.get_by_role("checkbox", name=re.compile("^Save my name, email, and website"))

    post_through_form(widget, "First post, forget me", name="Ada")
    page.reload()
    expect(textbox(form, "Name")).to_have_value("")

    fill_comment(form, "Second post, keep me", name="Ada")
    remember.check()
    form.get_by_role("button", name="Post Comment").click()
    expect(widget.locator("li.c", has_text="Second post, keep me")).to_be_visible()
    page.reload()
    expect(textbox(form, "Name")).to_have_value("Ada")
    expect(textbox(form, "Email")).to_have_value("tess@example.org")
    expect(remember).to_be_checked()

    remember.uncheck()
    page.reload()
    expect(textbox(form, "Name")).to_have_value("")
    expect(remember).not_to_be_checked()


def test_count_links_are_filled_from_one_batched_request(
    service: LiveService, open_article: Callable[..., Page], page: Page
) -> None:
    service.create_site()
    service.post_comment("One")
    service.post_comment("Two")
    count_requests: list[str] = []
    page.on(
        "request", lambda request: count_requests.append(request.url) if "/counts?" in request.url else None
    )

    link = (
        '<a id="{}" href="/" data-engagement="count" data-site="' + SITE + '" data-thread="{}">Comments</a>'
    )
    open_article(link.format("here", THREAD) + link.format("there", "elsewhere"))

    expect(page.locator("#here")).to_have_text("2 Comments")
    expect(page.locator("#there")).to_have_text("0 Comments")
    assert len(count_requests) == 1


def test_the_widget_speaks_the_page_language_unless_the_container_names_one(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    service.post_comment("Erster Kommentar")
    service.post_comment("Zweiter Kommentar")

    page = open_article(
        THREAD_MARKUP
        + THREAD_MARKUP.replace('id="engagement-comments"', 'data-engagement="comments" data-lang="ru"'),
        lang="de",
    )

    german, russian = page.locator("#engagement-comments"), page.locator("[data-lang=ru]")
    expect(german.get_by_role("heading", name="2 Kommentare")).to_be_visible()
    expect(german.get_by_role("button", name="Kommentar abschicken")).to_be_visible()
    expect(russian.get_by_role("heading", name="2 комментария")).to_be_visible()
    expect(russian.get_by_role("button", name="Отправить комментарий")).to_be_visible()


def test_the_widget_fetches_only_its_readers_language_beside_the_first_page(
    service: LiveService, open_article: Callable[..., Page], page: Page
) -> None:
    service.create_site()
    service.post_comment("Erster Kommentar")
    events: list[str] = []
    page.on("request", lambda request: events.append(f"start {request.url}"))
    page.on("requestfinished", lambda request: events.append(f"end {request.url}"))

    open_article(THREAD_MARKUP, lang="de-AT")
    expect(page.get_by_role("heading", name="1 Kommentar")).to_be_visible()

    languages = [event for event in events if event.startswith("start") and "/widget/lang/" in event]
    assert len(languages) == 1 and "/widget/lang/de." in languages[0]
    first_page = next(
        i for i, event in enumerate(events) if event.startswith("start") and "/comments?" in event
    )
    language_done = next(
        i for i, event in enumerate(events) if event.startswith("end") and "/widget/lang/" in event
    )
    assert first_page < language_done, "the first page is asked for while the language loads, not after"

    english, _ = new_page(page.context.browser)
    requested: list[str] = []
    english.on("request", lambda request: requested.append(request.url))
    open_article(THREAD_MARKUP, on=english)
    expect(english.get_by_role("heading", name="1 Comment")).to_be_visible()
    assert not [url for url in requested if "/widget/lang/" in url], "English is built in"
    english.context.close()


def test_data_theme_overrides_the_colour_scheme_of_the_system(
    service: LiveService, open_article: Callable[..., Page], page: Page
) -> None:
    service.create_site()
    page.emulate_media(color_scheme="light")
    open_article(
        THREAD_MARKUP.replace("<div ", '<div data-theme="dark" ')
        + THREAD_MARKUP.replace('id="engagement-comments"', 'id="system" data-engagement="comments"')
    )
    dark, system = page.locator("#engagement-comments"), page.locator("#system")
    expect(dark.locator("form")).to_be_visible()
    expect(system.locator("form")).to_be_visible()
    background = "el => getComputedStyle(el).backgroundColor"

    assert dark.evaluate(background) == "rgb(22, 24, 29)"
    assert system.evaluate(background) == "rgb(255, 255, 255)"
    page.emulate_media(color_scheme="dark")
    assert system.evaluate(background) == "rgb(22, 24, 29)"


def test_hostile_page_css_does_not_change_the_widget(
    browser: Browser, service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    service.post_comment("A comment to style")
    styles = {}
    for name, head in (("plain", ""), ("hostile", HOSTILE_CSS)):
        page, errors = new_page(browser)
        widget = thread_widget(open_article(THREAD_MARKUP, head=head, on=page))
        expect(widget.locator("li.c")).to_have_count(1)
        styles[name] = widget.evaluate(COMPUTED_STYLES)
        page.context.close()
        assert errors == []

    assert styles["hostile"] == styles["plain"]
    assert [entry[2] for entry in styles["plain"] if entry[0] == "FORM"] == ["block"]


def test_script_in_comments_names_and_websites_never_runs(
    service: LiveService, open_article: Callable[..., Page], page: Page
) -> None:
    service.create_site()
    accepted = [service.post_comment(body, name="Tester")["status_code"] for body in XSS_BODIES]
    accepted += [
        service.post_comment(f"Name {i}", name=name)["status_code"] for i, name in enumerate(XSS_NAMES)
    ]
    accepted += [
        service.post_comment(f"URL {i}", author_url=url)["status_code"] for i, url in enumerate(XSS_URLS)
    ]
    assert accepted.count(201) >= len(XSS_BODIES), "the bodies must reach the page to test the widget"
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    widget = thread_widget(open_article(THREAD_MARKUP))
    expect(widget.locator("ol.list > li")).to_have_count(accepted.count(201))
    expect(widget.get_by_text("Robert'); alert(1);//")).to_be_visible()
    for link in widget.locator(".text a, a.who").all():
        link.hover()
    page.wait_for_load_state("networkidle")

    assert dialogs == []
    assert page.evaluate("window.__xss") is None
    assert widget.evaluate(LIVE_SCRIPT_ATTRIBUTES) == []


def test_comment_author_links_are_marked_as_user_content(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    service.post_comment("Linked author", author_url="https://marta.example.org/")
    author = thread_widget(open_article(THREAD_MARKUP)).get_by_role("link", name="Marta")

    expect(author).to_have_attribute("href", "https://marta.example.org/")
    expect(author).to_have_attribute("rel", "nofollow ugc noopener")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_widget_has_no_serious_accessibility_violations(
    theme: str, service: LiveService, open_article: Callable[..., Page]
) -> None:
    service.create_site()
    first = service.post_comment(
        "A comment with a [link](https://example.org)", author_url="https://example.org"
    )
    service.post_comment("A reply", name="David", parent_id=first["comment"]["id"])
    themed = f'data-theme="{theme}" '
    page = open_article(
        THREAD_MARKUP.replace("<div ", f"<div {themed}") + COUNTERS_MARKUP.replace("<div ", f"<div {themed}")
    )
    widget = thread_widget(page)
    expect(widget.locator("li.c")).to_have_count(2)
    expect(page.locator("[data-engagement=counters] .n").first).to_have_text("0")
    # With field errors showing, so their colours are checked too.
    comment_form(widget).get_by_role("button", name="Post Comment").click()
    expect(textbox(comment_form(widget), "Comment")).to_have_attribute("aria-invalid", "true")

    page.add_script_tag(path=str(AXE_SCRIPT))
    results: dict[str, Any] = page.evaluate(
        """() => axe.run({include: [["#engagement-comments"], ["[data-engagement=counters]"]]},
                         {resultTypes: ["violations"]})"""
    )

    serious = [
        f"{violation['id']}: {[node['target'] for node in violation['nodes']]}"
        for violation in results["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert serious == []
    # The fields inside the shadow root were really inspected, not skipped.
    assert "label" in {rule["id"] for rule in results["passes"]}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_demo_page_screenshots(scheme: str, service: LiveService, page: Page) -> None:
    with service.app.app_context():
        seed_demo()
    page.emulate_media(color_scheme=scheme)
    # Tall enough for the whole article, so the lazily loaded avatars are in view and drawn.
    page.set_viewport_size({"width": 900, "height": 3600})
    page.goto(service.url + "/")
    widget = thread_widget(page)
    expect(widget.locator("li.c").first).to_be_visible()
    expect(page.locator("[data-engagement=counters] .n").first).not_to_have_text("–")
    widget.evaluate("host => Promise.all([...host.shadowRoot.querySelectorAll('img')].map(i => i.decode()))")

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / f"demo-{scheme}.png"
    page.screenshot(path=screenshot, full_page=True)

    assert screenshot.stat().st_size > 20_000
    expected = "rgb(22, 24, 29)" if scheme == "dark" else "rgb(255, 255, 255)"
    assert widget.evaluate("el => getComputedStyle(el).backgroundColor") == expected


def test_count_links_with_a_hundred_long_keys_are_asked_in_one_post(
    service: LiveService, open_article: Callable[..., Page], page: Page
) -> None:
    # 100 keys of 44 characters make a query string past a server's 4 KB request line (gunicorn: 414).
    service.create_site()
    service.post_comment("One")
    keys = [THREAD] + [f"news/2026/12/{n:03d}-a-realistic-article-slug-here" for n in range(99)]
    asked: list[tuple[str, str]] = []
    page.on(
        "request",
        lambda request: asked.append((request.method, request.url)) if "/counts" in request.url else None,
    )
    link = (
        '<a id="c{}" href="/" data-engagement="count" data-site="' + SITE + '" data-thread="{}">Comments</a>'
    )
    open_article("".join(link.format(n, key) for n, key in enumerate(keys)))

    expect(page.locator("#c0")).to_have_text("1 Comment")
    expect(page.locator("#c99")).to_have_text("0 Comments")
    assert [method for method, _ in asked] == ["POST"]


# Where the first and the last letter of an element's text are drawn, left to right.
TEXT_ENDS = """element => {
    const text = element.firstChild, range = document.createRange(), x = i => {
        range.setStart(text, i); range.setEnd(text, i + 1); return range.getBoundingClientRect().left;
    };
    return [x(0), x(text.length - 1)];
}"""


def test_a_name_is_isolated_so_an_override_in_it_cannot_turn_the_date_after_it_around(
    service: LiveService, open_article: Callable[..., Page]
) -> None:
    # The API refuses bidi overrides in names now; an imported name, or one from before, may hold one. Not
    # isolated, it reversed the rest of the line: "just now" drawn as "won tsuj".
    service.create_site()
    posted = service.post_comment("Hello", name="Ann")["comment"]["id"]
    with service.app.app_context():
        db.session.execute(update(Comment).where(Comment.id == posted).values(author_name="Ann\u202e"))
        db.session.commit()

    widget = thread_widget(open_article(THREAD_MARKUP))
    who = widget.locator("li.c .who")
    expect(who).to_have_text("Ann\u202e")
    expect(who).to_have_attribute("dir", "auto")
    first, last = widget.locator("li.c .meta time").evaluate(TEXT_ENDS)
    assert first < last  # read left to right, as the page's language is written
