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

from engagement import rendering
from engagement.rendering import (
    LINKIFY_BUDGET,
    clean_html,
    html_to_text,
    links_in_html,
    render_comment,
)
from tests.html_safety import unsafe_parts
from tests.test_rendering_properties import comment_bodies

LENGTH = 60_000  # the longest body a site may allow
PROSE = "The council met on Tuesday to discuss the budget, *again*, and agreed on nothing at all. "


def fill(unit: str, length: int = LENGTH) -> str:
    return (unit * (length // len(unit) + 1))[:length]


# --- past a budget, the body is shown as typed --------------------------------------------------------------


def test_bare_urls_past_the_linkify_budget_stay_text():
    # Each "https://example.org" counts one, plus one for its "."
    rendered = render_comment("https://example.org " * LINKIFY_BUDGET)

    assert links_in_html(rendered) == LINKIFY_BUDGET // 2
    assert html_to_text(rendered) == " ".join(["https://example.org"] * LINKIFY_BUDGET)


EXHAUSTED_BUDGETS = {
    "linkify": (render_comment, {"LINKIFY_BUDGET": 0}),
}


@pytest.mark.parametrize(("render", "budgets"), EXHAUSTED_BUDGETS.values(), ids=EXHAUSTED_BUDGETS.keys())
@settings(max_examples=200, deadline=None)
@given(text=comment_bodies)
def test_past_a_budget_stored_html_is_still_a_clean_fixpoint_that_runs_nothing(render, budgets, text):
    with patch.multiple(rendering, **budgets):
        stored = render(text)

    assert clean_html(stored) == stored
    assert unsafe_parts(stored) == []


# --- work grows with the length, not with what the body holds -----------------------------------------------

HOSTILE = {
    "one URL then quotes": "http://a.io " + '"' * (LENGTH - 12),
    "URLs full of entities": fill('http://a.io/"""""&&&&& '),
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
