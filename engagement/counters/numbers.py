"""How counter values are written for people: the one place that turns a count into short text.

Badges and the JSON API must agree with shields.io to the character, because readers see our badges
next to shields' own. shields formats counts with `metric()` in `services/text-formatters.js`; the
functions here reproduce it, including JavaScript's rounding, which differs from Python's.
"""

from decimal import ROUND_HALF_UP, Decimal

_METRIC_PREFIXES = ("k", "M", "G", "T", "P", "E", "Z", "Y")


def to_fixed(value: float, digits: int) -> str:
    """Format `value` as JavaScript's `Number.prototype.toFixed(digits)` does.

    ECMAScript picks the decimal closest to the exact binary value and, on a tie, the larger one:
    `(1.25).toFixed(1)` is "1.3" where Python's `f"{1.25:.1f}"` says "1.2" (ties to even).
    """
    exact = Decimal(value)
    return str(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _js_round(value: float) -> int:
    """`Math.round` for the non-negative values metric() gives it: halves go up, not to even."""
    return int(Decimal(value).to_integral_value(rounding=ROUND_HALF_UP))


def metric(n: int) -> str:
    """Shorten a count the way shields.io's `metric()` does: 999 -> "999", 1234 -> "1.2k", 12345 -> "12k".

    shields' rules, step by step (services/text-formatters.js):
    - From the largest prefix down, the first power of 1000 with |n| >= 1000**k is used.
    - Below 10 of that unit, one decimal is shown via `toFixed(1)` unless it ends in "0"
      (1234 -> "1.2k", 1000 -> "1k", 1250 -> "1.3k" because toFixed rounds ties up).
    - Otherwise the value is `Math.round`ed (ties up): 12345 -> "12k", 999499 -> "999k".
    - A value that rounds to 1000 of its unit becomes "1" of the next unit: 999500 -> "1M".
    - Below 1000 the number is written as is, sign included; a negative count keeps its "-".
    The arithmetic is done on a double, as JavaScript's Number does, so results match for every
    count JavaScript can hold. Past 999.5 yotta shields prints "1undefined"; we keep counting in
    yotta ("1000Y") instead.
    """
    magnitude = float(abs(n))
    for power in range(len(_METRIC_PREFIXES), 0, -1):
        limit = float(1000**power)
        if magnitude < limit:
            continue
        prefix = _METRIC_PREFIXES[power - 1]
        sign = "-" if n < 0 else ""
        scaled = magnitude / limit
        if scaled < 10:
            one_decimal = to_fixed(scaled, 1)
            if not one_decimal.endswith("0"):
                return f"{sign}{one_decimal}{prefix}"
        rounded = _js_round(scaled)
        if rounded < 1000 or power == len(_METRIC_PREFIXES):
            return f"{sign}{rounded}{prefix}"
        return f"{sign}1{_METRIC_PREFIXES[power]}"
    return str(n)


def compact(n: int) -> str:
    """The short `display` string the JSON API sends with a count; identical to `metric`.

    The widget prints counts below 10,000 in full, localised by the browser (`Intl.NumberFormat`),
    and switches to this compact form from 10,000 up, so the server never has to know the
    reader's locale and the badge and the widget agree on large numbers.
    """
    return metric(n)
