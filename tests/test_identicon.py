"""Identicons: one stable, symmetric, readable picture per digest, and nothing else goes in."""

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET

import pytest

from engagement.comments.avatars import identicon_svg

SVG = "{http://www.w3.org/2000/svg}"
CELL = 6
MARGIN = 5


def digest_for(email: str) -> str:
    """What a caller passes: an HMAC of the address, never the address."""
    return hmac.new(b"site-secret", email.encode(), hashlib.sha256).hexdigest()


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def grid_of(svg: str) -> list[list[bool]]:
    root = parse(svg)
    grid = [[False] * 5 for _ in range(5)]
    for square in root.find(f"{SVG}g").iter(f"{SVG}rect"):
        assert square.get("width") == square.get("height") == str(CELL)
        column = (int(square.get("x")) - MARGIN) // CELL
        row = (int(square.get("y")) - MARGIN) // CELL
        grid[row][column] = True
    return grid


def pattern_colour(svg: str) -> str:
    return parse(svg).find(f"{SVG}g").get("fill")


def luminance(hex_colour: str) -> float:
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(int(hex_colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    darker, lighter = sorted((luminance(first), luminance(second)))
    return (lighter + 0.05) / (darker + 0.05)


SAMPLE_DIGESTS = [digest_for(f"reader{number}@example.org") for number in range(300)]


def test_same_digest_gives_the_same_identicon():
    digest = digest_for("ada@example.org")

    assert identicon_svg(digest) == identicon_svg(digest)


def test_digest_case_does_not_change_the_identicon():
    digest = digest_for("ada@example.org")

    assert identicon_svg(digest.upper()) == identicon_svg(digest)


def test_different_digests_give_different_identicons():
    assert len({identicon_svg(digest) for digest in SAMPLE_DIGESTS}) == len(SAMPLE_DIGESTS)


def test_digests_differing_only_in_the_last_character_differ():
    digest = "ab" * 32

    assert identicon_svg(digest) != identicon_svg(digest[:-1] + "c")


@pytest.mark.parametrize("digest", SAMPLE_DIGESTS[:50])
def test_pattern_is_horizontally_symmetric_and_never_empty(digest):
    grid = grid_of(identicon_svg(digest))

    assert all(row == row[::-1] for row in grid)
    assert any(any(row) for row in grid)


def test_patterns_vary_across_digests():
    grids = {tuple(map(tuple, grid_of(identicon_svg(digest)))) for digest in SAMPLE_DIGESTS}

    assert len(grids) > 250


def test_identicon_is_a_small_well_formed_40px_svg_on_a_light_tile():
    svg = identicon_svg(digest_for("ada@example.org"))
    root = parse(svg)

    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 40 40"
    tile = root.find(f"{SVG}rect")
    assert (tile.get("width"), tile.get("height")) == ("40", "40")
    assert luminance(tile.get("fill")) > 0.8
    assert len(svg) < 2_000


def test_colours_read_on_white_on_dark_pages_and_on_their_tile():
    colours = {pattern_colour(identicon_svg(digest)) for digest in SAMPLE_DIGESTS}

    assert len(colours) > 250
    for colour in colours:
        assert re.fullmatch(r"#[0-9a-f]{6}", colour)
        assert contrast(colour, "#ffffff") >= 4.5
        assert contrast(colour, "#f0f0f0") >= 3.9
        assert contrast(colour, "#121212") >= 3


@pytest.mark.parametrize("length", [16, 32, 40, 64])
def test_digests_of_16_to_64_hex_characters_are_accepted(length):
    root = parse(identicon_svg("0f" * (length // 2)))

    assert root.tag == f"{SVG}svg"


@pytest.mark.parametrize(
    "digest",
    [
        "",
        "0" * 15,
        "0" * 65,
        "g" * 32,
        "ada@example.org0",
        "0123456789abcdef ",
        "0x" + "0" * 30,
        "٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥",  # Arabic-Indic digits are decimal to Python, not hex
        None,
        b"0123456789abcdef",
    ],
)
def test_anything_but_a_hex_digest_is_rejected(digest):
    with pytest.raises(ValueError, match="hex digest"):
        identicon_svg(digest)
