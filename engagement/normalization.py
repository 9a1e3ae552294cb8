"""Text as the anti-spam rules compare it, so a zero-width space, a doubled space, full-width letters or
a capital cannot slip a word or a repeated comment past them.

``fold`` is for comparing only; what a reader wrote is stored and shown as written.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Characters that render as nothing: format characters (zero-width space and joiners, soft hyphen, bidi
# marks, word joiner, BOM; Unicode category Cf), combining grapheme joiner, variation selectors and the
# Hangul fillers. Removed before comparing.
_INVISIBLE = re.compile(r"[\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f]|[\U000e0100-\U000e01ef]")
_WHITESPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFKC, case-folded, invisible characters removed, whitespace runs collapsed to one space, trimmed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    text = _INVISIBLE.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


def body_digest(body: str) -> str | None:
    """What the duplicate rule compares comment bodies by: SHA-256 of the folded text (None: no text)."""
    folded = fold(body)
    return hashlib.sha256(folded.encode()).hexdigest() if folded else None
