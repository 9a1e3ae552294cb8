"""Folding text as the anti-spam rules compare it: the fast patterns agree with Unicode's own tables."""

from __future__ import annotations

import re
import sys
import unicodedata

from engagement.normalization import _FORMAT, body_digest, fold

EVERY_CHARACTER = [chr(code) for code in range(sys.maxunicode + 1)]


def test_the_format_character_pattern_is_exactly_unicode_category_cf():
    # Written out as ranges so folding does not ask each character its category; a Python with a newer
    # Unicode database fails here until the list follows it.
    assert [c for c in EVERY_CHARACTER if _FORMAT.fullmatch(c)] == [
        c for c in EVERY_CHARACTER if unicodedata.category(c) == "Cf"
    ]


def test_whitespace_is_what_the_regular_expression_took_for_it():
    spaces = re.compile(r"\s")
    assert [c for c in EVERY_CHARACTER if c.isspace()] == [c for c in EVERY_CHARACTER if spaces.match(c)]


def test_fold_removes_what_renders_as_nothing_and_collapses_whitespace():
    text = "  Ｃａｓｉｎｏ\u200b  NOW\u00ad\u2060 \u3000 𝐟𝐫𝐞𝐞\ufe0f\n\tcafé\u202e "
    assert fold(text) == "casino now free café"
    assert body_digest(" \u200b\u00ad\n") is None
    assert body_digest("Hello  World") == body_digest("hello world")
