"""Counts are shortened exactly as shields.io's metric() shortens them, JavaScript rounding included."""

import pytest

from engagement.counters.numbers import compact, metric, to_fixed

METRIC_CASES = [
    # (count, shields' text): below a thousand the count is written out
    (0, "0"),
    (1, "1"),
    (999, "999"),
    # one decimal below ten of a unit, unless that decimal is zero
    (1000, "1k"),
    (1001, "1k"),
    (1049, "1k"),
    (1050, "1.1k"),
    (1234, "1.2k"),
    (1500, "1.5k"),
    (9949, "9.9k"),
    (9950, "9.9k"),  # 9950 / 1000 is the double 9.9499999..., as in JavaScript
    (9951, "10k"),  # "10.0" ends in zero, so it is rounded to a whole number instead
    (9999, "10k"),
    # ties round up as in JavaScript's toFixed, not to even as in Python's format()
    (1250, "1.3k"),
    (2250, "2.3k"),
    (1750, "1.8k"),
    # from ten of a unit on, Math.round to a whole number, ties up
    (10000, "10k"),
    (12345, "12k"),
    (12500, "13k"),
    (99999, "100k"),
    (999499, "999k"),
    # a value that rounds to a thousand of its unit becomes one of the next
    (999500, "1M"),
    (999999, "1M"),
    (1000000, "1M"),
    (1500000, "1.5M"),
    (9_951_000, "10M"),
    (10**9, "1G"),
    (10**12, "1T"),
    (10**15, "1P"),
    (2**53 - 1, "9P"),
    (10**18, "1E"),
    (10**21, "1Z"),
    (10**24, "1Y"),
    # negative counts mirror positive ones
    (-1, "-1"),
    (-999, "-999"),
    (-1000, "-1k"),
    (-1234, "-1.2k"),
    (-999500, "-1M"),
]


@pytest.mark.parametrize(("count", "expected"), METRIC_CASES)
def test_metric_matches_shields(count, expected):
    assert metric(count) == expected


def test_metric_keeps_counting_in_yotta_where_shields_runs_out_of_prefixes():
    assert metric(5 * 10**27) == "5000Y"


@pytest.mark.parametrize(("count", "expected"), METRIC_CASES)
def test_compact_display_is_the_metric_form(count, expected):
    assert compact(count) == expected


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (1.25, 1, "1.3"),  # exactly representable tie: JavaScript rounds up
        (1.05, 1, "1.1"),  # the double is slightly above 1.05
        (1.45, 1, "1.4"),  # the double is slightly below 1.45
        (0.685, 2, "0.69"),  # the double 0.685000000000000053... rounds up
        (0.675, 2, "0.68"),  # the double 0.67500000000000004... rounds up
        (7.0, 1, "7.0"),
    ],
)
def test_to_fixed_rounds_like_javascript(value, digits, expected):
    assert to_fixed(value, digits) == expected
