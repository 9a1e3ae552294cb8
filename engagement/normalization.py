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
# The format characters (Unicode category Cf, as unicodedata has them; tests/test_normalization.py holds
# the list to it): one pattern instead of asking each character its category, ten times the cost.
_FORMAT = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def fold(text: str) -> str:
    """NFKC, case-folded, invisible characters removed, whitespace runs collapsed to one space, trimmed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _FORMAT.sub("", text)
    text = _INVISIBLE.sub("", text)
    return " ".join(text.split())  # split() and re's \s both take str.isspace() as whitespace


def body_digest(body: str) -> str | None:
    """What the duplicate rule compares comment bodies by: SHA-256 of the folded text (None: no text)."""
    folded = fold(body)
    return hashlib.sha256(folded.encode()).hexdigest() if folded else None
