"""The widget in its readers' languages: Arabic laid out right to left with its six plural forms and no
serious accessibility violation, Japanese, and a screenshot of each for the README."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, SITE, THREAD, LiveService

pytestmark = pytest.mark.browser

AXE_SCRIPT = ARTIFACTS.parent / "vendor" / "axe.min.js"
THREAD_MARKUP = f'<div id="engagement-comments" data-site="{SITE}" data-thread="{THREAD}"></div>'
COUNTERS_MARKUP = f'<div data-engagement="counters" data-site="{SITE}"></div>'
# Arabic's CLDR plural categories, each with a count that selects it (digits as Chromium writes them for
# "ar": Latin).
ARABIC_COUNTS = {
    0: "لا تعليقات",
    1: "تعليق واحد",
    2: "تعليقان",
    3: "3 تعليقات",
    11: "11 تعليقًا",
    100: "100 تعليق",
}


def _count_links(counts: dict[int, str]) -> str:
    return "".join(
        f'<p><a href="/t{n}" data-engagement="count" data-site="{SITE}" data-thread="t{n}">?</a></p>'
        for n in counts
    )


def _seed_threads(service: LiveService, counts: dict[int, str]) -> None:
    for n in counts:
        for i in range(n):
            service.post_comment(f"{i}", thread=f"t{n}", author_email=f"r{n}-{i}@example.org")


def test_arabic_is_laid_out_right_to_left_with_its_plural_forms_and_passes_axe(
    service: LiveService, open_article: Callable[..., Page], page: Page
) -> None:
    service.create_site()
    _seed_threads(service, ARABIC_COUNTS)
    first = service.post_comment("تعليق أول على المقال.", name="ليلى")
    service.post_comment("رد على التعليق.", name="عمر", parent_id=first["comment"]["id"])

    open_article(THREAD_MARKUP + COUNTERS_MARKUP + _count_links(ARABIC_COUNTS), lang="ar")

    expect(page.get_by_role("heading", name="تعليقان")).to_be_visible()
    section = page.locator("#engagement-comments section")
    expect(section).to_have_attribute("dir", "rtl")
    expect(section).to_have_attribute("lang", "ar")
    for n, text in ARABIC_COUNTS.items():
        expect(page.locator(f"a[data-thread=t{n}]")).to_have_text(text)
    # Mirrored: labels start on the right, replies are indented from the right.
    form = page.locator("#engagement-comments form").first
    label = form.locator("label").first
    assert (
        label.bounding_box()["x"] + label.bounding_box()["width"]
        > form.bounding_box()["x"] + form.bounding_box()["width"] - 40
    )
    top = page.locator("li.c", has_text="تعليق أول").first.locator(".row").first.bounding_box()
    reply = page.locator(".replies > li.c").first.locator(".row").first.bounding_box()
    assert reply["x"] + reply["width"] < top["x"] + top["width"] - 10, "the reply is indented from the right"
    expect(page.get_by_role("button", name="أرسل التعليق")).to_be_visible()

    page.add_script_tag(path=str(AXE_SCRIPT))
    results: dict[str, Any] = page.evaluate(
        """() => axe.run({include: [["#engagement-comments"], ["[data-engagement=counters]"]]},
                         {resultTypes: ["violations"]})"""
    )
    serious = [v["id"] for v in results["violations"] if v["impact"] in {"serious", "critical"}]
    assert serious == []
    assert "label" in {rule["id"] for rule in results["passes"]}

    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 900, "height": 1400})
    page.screenshot(path=str(ARTIFACTS / "widget-ar.png"), full_page=True)


def test_japanese(service: LiveService, open_article: Callable[..., Page], page: Page) -> None:
    service.create_site()
    first = service.post_comment("首脳会談の記事、興味深く読みました。", name="佐藤")
    service.post_comment("同感です。", name="鈴木", parent_id=first["comment"]["id"])

    open_article(THREAD_MARKUP + COUNTERS_MARKUP, lang="ja")

    expect(page.get_by_role("heading", name="2件のコメント")).to_be_visible()
    expect(page.locator("#engagement-comments section")).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", name="コメントを残す")).to_be_visible()
    expect(page.get_by_text("メールアドレスが公開されることはありません。")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 900, "height": 1400})
    page.screenshot(path=str(ARTIFACTS / "widget-ja.png"), full_page=True)
