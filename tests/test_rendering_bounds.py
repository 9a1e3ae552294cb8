"""Rendering a body costs work in proportion to its length, whatever it holds (issue 13, finding 11).

Past a budget of engagement/rendering.py a body is shown as typed, never dropped; ordinary comments never
reach one. Time is the bench's business (bench/rendering.py): here work is counted, as Python function
calls under cProfile (exact, and the same on every run) and as characters of HTML (what nh3 and bleach
work through).
"""

import cProfile
import functools
import pstats
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from markdown_it.rules_core import inline

from devtools.documentation import project_documentation
from engagement import rendering
from engagement.rendering import (
    IMPORTED_MAX_TAGS,
    LINKIFY_BUDGET,
    MARKDOWN_LINK_TARGET_BUDGET,
    MARKDOWN_MARKUP_BUDGET,
    MARKDOWN_MAX_LINES,
    clean_html,
    html_to_text,
    links_in_html,
    render_comment,
    sanitize_html,
)
from tests.html_safety import hrefs, unsafe_parts
from tests.test_rendering_properties import comment_bodies

LENGTH = 60_000  # the longest body a site may allow
PROSE = "The council met on Tuesday to discuss the budget, *again*, and agreed on nothing at all. "


def fill(unit: str, length: int = LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


def without_budgets(text: str) -> str:
    """render_comment as it was before the budgets: markdown-it's own inline rule, bleach on all the HTML."""
    if not text.strip():
        return ""
    markdown = rendering._markdown_parser()
    markdown.core.ruler.at("inline", inline)
    return clean_html(rendering._LINKER.linkify(markdown.render(text))).strip()


def long_ordinary_comment() -> str:
    """60,000 characters as readers write them: prose with some emphasis and code, quotes, lists, code
    samples, a few dozen links."""
    paragraphs = []
    for n in range(200):
        paragraphs.append(PROSE * 4 + f"The {n}th point: `total < limit` holds, AT&T says so.")
        if n % 5 == 0:
            paragraphs.append(f"> Someone wrote in reply {n}: the _budget_ is late\n> and so is the bridge.")
        if n % 5 == 1:
            paragraphs.append("- first, with *emphasis*\n- second: 3 < 4 && 5 > 2\n- third")
        if n % 5 == 2:
            paragraphs.append("```python\nif a < b and c:\n    print(a * b, [c], d_e)\n```")
        if n % 5 == 3:
            paragraphs.append(
                f"See [the minutes](https://council.example.org/minutes/{n}?year=2026&page=2) and"
                f" https://news.example.org/{n}, or www.example.net/{n}."
            )
    return "\n\n".join(paragraphs)[:LENGTH]


# --- ordinary comments are untouched ------------------------------------------------------------------------


def test_long_ordinary_comment_renders_as_without_budgets():
    text = long_ordinary_comment()

    assert len(text) == LENGTH
    assert render_comment(text) == without_budgets(text)


def test_the_projects_documentation_renders_as_without_budgets():
    docs = project_documentation()[:LENGTH]

    assert render_comment(docs) == without_budgets(docs)


@settings(max_examples=300, deadline=None)
@given(text=comment_bodies)
def test_within_its_budgets_a_body_renders_as_without_them(text):
    assert render_comment(text) == without_budgets(text)


# --- past a budget, the body is shown as typed --------------------------------------------------------------


def test_paragraph_past_the_markup_budget_is_shown_as_typed_with_its_line_breaks():
    brackets = "[" * MARKDOWN_MARKUP_BUDGET

    assert render_comment(f"*kept*\n\n{brackets} <b>&amp;\n*not emphasis*") == (
        f"<p><em>kept</em></p>\n<p>{brackets} &lt;b&gt;&amp;amp;<br>\n*not emphasis*</p>"
    )


def test_paragraphs_after_one_past_the_markup_budget_keep_their_markdown():
    rendered = render_comment("[" * MARKDOWN_MARKUP_BUDGET + "\n\n*still emphasis*")

    assert rendered.endswith("<p><em>still emphasis</em></p>")


def test_body_of_more_lines_than_the_limit_is_shown_as_typed_in_one_pre():
    text = "*a* <b>\n" * (MARKDOWN_MAX_LINES + 1)

    assert render_comment(text) == "<pre>" + "*a* &lt;b&gt;\n" * MARKDOWN_MAX_LINES + "*a* &lt;b&gt;</pre>"


def test_body_of_as_many_lines_as_the_limit_is_still_markdown():
    assert render_comment("*a*\n" * MARKDOWN_MAX_LINES).startswith("<p><em>a</em><br>")


def test_reference_link_repeated_writes_its_url_at_most_the_link_target_budget():
    url = "https://example.org/" + "y" * 10_000
    text = f"[a]: {url}\n\n" + "[a] " * 1_000

    assert sum(len(href or "") for href in hrefs(render_comment(text))) <= MARKDOWN_LINK_TARGET_BUDGET


def test_reference_links_within_the_link_target_budget_still_link():
    url = "https://example.org/" + "y" * 1_000

    assert hrefs(render_comment(f"[a] and [a]\n\n[a]: {url}")) == [url, url]


def test_bare_urls_past_the_linkify_budget_stay_text():
    # Each "https://example.org" counts one, plus one for its "."
    rendered = render_comment("https://example.org " * LINKIFY_BUDGET)

    assert links_in_html(rendered) == LINKIFY_BUDGET // 2
    assert html_to_text(rendered) == " ".join(["https://example.org"] * LINKIFY_BUDGET)


def test_imported_html_with_more_nesting_tags_than_the_limit_is_kept_as_escaped_source():
    imported = "<div>" * (IMPORTED_MAX_TAGS + 1) + "hello"

    assert sanitize_html(imported) == "<pre>" + "&lt;div&gt;" * (IMPORTED_MAX_TAGS + 1) + "hello</pre>"


def test_imported_html_with_many_line_breaks_is_still_html():
    assert sanitize_html("<p>" + "line<br>" * (IMPORTED_MAX_TAGS + 1) + "</p>").startswith("<p>line<br>")


EXHAUSTED_BUDGETS = {
    "markup": (render_comment, {"MARKDOWN_MARKUP_BUDGET": 0}),
    "link targets": (render_comment, {"MARKDOWN_LINK_TARGET_BUDGET": 0}),
    "lines": (render_comment, {"MARKDOWN_MAX_LINES": 0}),
    "linkify": (render_comment, {"LINKIFY_BUDGET": 0}),
    "imported tags": (sanitize_html, {"IMPORTED_MAX_TAGS": 0}),
}


@pytest.mark.parametrize(("render", "budgets"), EXHAUSTED_BUDGETS.values(), ids=EXHAUSTED_BUDGETS.keys())
@settings(max_examples=200, deadline=None)
@given(text=comment_bodies)
def test_past_a_budget_stored_html_is_still_a_clean_fixpoint_that_runs_nothing(render, budgets, text):
    with patch.multiple(rendering, **budgets):
        stored = render(text)

    assert clean_html(stored) == stored
    assert unsafe_parts(stored) == []


@pytest.mark.parametrize("render", [render_comment, sanitize_html])
@settings(max_examples=200, deadline=None)
@given(text=comment_bodies)
def test_a_body_shown_as_typed_keeps_every_character_typed(render, text):
    with patch.multiple(rendering, MARKDOWN_MAX_LINES=0, IMPORTED_MAX_TAGS=-1):
        shown = html_to_text(render(text))

    assert shown.split() == text.replace("\0", "\ufffd").split()


# --- work grows with the length, not with what the body holds -----------------------------------------------

HOSTILE = {
    # The security probe's three.
    "'[' x 60,000": "[" * LENGTH,
    "'![' x 30,000": "![" * (LENGTH // 2),
    "'*_' x 30,000": "*_" * (LENGTH // 2),
    "link openers": fill("[a"),
    "reference uses": fill("[a] ", LENGTH - 20) + "\n\n[a]: http://x\n",
    "nested strong and emphasis": "*a **a " * 4285 + "b" + " a** a*" * 4285,
    "angle brackets": "<" * LENGTH,
    "ampersands": "&" * LENGTH,
    "list items": fill("- a\n"),
    "lines": fill("a\n"),
    "paragraphs": fill("a\n\n"),
    "one URL then quotes": "http://a.io " + '"' * (LENGTH - 12),
    "URLs full of entities": fill('http://a.io/"""""&&&&& '),
    "markup mix": fill("[*_`<"),
    "markup budget full": ("[a" * (MARKDOWN_MARKUP_BUDGET // 2 - 1) + "\n\n" + fill(PROSE))[:LENGTH],
}


def function_calls(render, text: str) -> int:
    render(text)  # the first call compiles patterns and fills caches
    profile = cProfile.Profile()
    profile.runcall(render, text)
    return pstats.Stats(profile).total_calls


@functools.cache
def ordinary_prose_calls() -> int:
    return function_calls(render_comment, fill(PROSE))


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_body_costs_at_most_a_few_times_ordinary_prose_of_its_length(text):
    assert len(text) <= LENGTH

    assert function_calls(render_comment, text) <= 6 * ordinary_prose_calls()


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_body_html_is_at_most_a_few_times_its_length(text):
    assert len(render_comment(text)) <= 6 * len(text)


def test_reference_link_used_thousands_of_times_writes_no_more_html_than_its_length_allows():
    text = "[a]: http://x/" + "y" * 10_000 + "\n\n" + "[a]" * 1_000

    assert len(render_comment(text)) <= 6 * len(text)
