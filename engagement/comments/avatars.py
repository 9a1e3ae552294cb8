"""Identicons: a stable, anonymous picture for each commenter, drawn from a digest and nothing else.

The caller passes an HMAC of the commenter's e-mail address, so the picture says "same person as
before" without the address, or a plain hash of it, ever reaching the page.
"""

import colorsys
import hashlib
import re
import string
from functools import lru_cache

from markupsafe import Markup

GRID_SIZE = 5
_CELL = 6
_MARGIN = 5  # 5 + 5 * 6 + 5 = 40, the viewBox
_VIEWBOX = 2 * _MARGIN + GRID_SIZE * _CELL
_BACKGROUND = "#f0f0f0"
# WCAG asks 3:1 for graphics. Relative luminance in this band gives at least 3.1:1 against a
# near-black page (#121212), 3.9:1 against the light tile the pattern sits on and 4.5:1 against white.
_LUMINANCE_RANGE = (0.13, 0.18)
_HEX = frozenset(string.hexdigits)
# What reading.avatar_path writes; the widget's avatar.js reads the digest out of it the same way.
_AVATAR_PATH = re.compile(r"/api/v1/sites/[^/]+/avatars/([0-9a-fA-F]{16,64})\.svg")


def identicon_svg(digest_hex: str) -> str:
    """A 40x40 SVG: a horizontally symmetric 5x5 pattern in one colour on a light tile, GitHub style.

    The same digest always gives the same picture. Raises ValueError unless `digest_hex` is 16 to 64
    hexadecimal characters (either case).
    """
    material = _material(digest_hex)
    cells = _filled_cells(material)
    color = _color(material)
    squares = "".join(
        f'<rect x="{_MARGIN + column * _CELL}" y="{_MARGIN + row * _CELL}" width="{_CELL}" height="{_CELL}"/>'
        for row, column in cells
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_VIEWBOX}" height="{_VIEWBOX}" '
        f'viewBox="0 0 {_VIEWBOX} {_VIEWBOX}" aria-hidden="true">'
        f'<rect width="{_VIEWBOX}" height="{_VIEWBOX}" fill="{_BACKGROUND}"/>'
        f'<g fill="{color}">{squares}</g></svg>'
    )


def inline_identicon(avatar_path: str | None) -> Markup | None:
    """The identicon at one of the service's avatar paths as inline SVG for a server-rendered thread, or
    None for any other path. The markup is the one the widget's avatar.js draws (one path for the tile,
    one for the pattern): a thread in the article's HTML costs no request per avatar, with or without
    JavaScript, and the widget taking it over draws the same pictures."""
    match = _AVATAR_PATH.fullmatch(avatar_path or "")
    return _inline(match.group(1).lower()) if match else None


@lru_cache(maxsize=4096)
def _inline(digest_hex: str) -> Markup:
    material = _material(digest_hex)
    pattern = "".join(
        f"M{_MARGIN + column * _CELL} {_MARGIN + row * _CELL}h{_CELL}v{_CELL}h-{_CELL}z"
        for row, column in _filled_cells(material)
    )
    return Markup(  # noqa: S704 (numbers and a colour computed here, nothing from outside)
        f'<svg class="av" viewBox="0 0 {_VIEWBOX} {_VIEWBOX}" aria-hidden="true">'
        f'<path fill="{_BACKGROUND}" d="M0 0h{_VIEWBOX}v{_VIEWBOX}H0z"></path>'
        f'<path fill="{_color(material)}" d="{pattern}"></path></svg>'
    )


def _material(digest_hex: str) -> bytes:
    """Spread every bit of the digest over the picture, whatever its length.

    Reading the digest directly would leave the tail of a long one unused, so two digests that differ
    only at the end would look alike; hashing it once more makes every character count.
    """
    if not isinstance(digest_hex, str) or not 16 <= len(digest_hex) <= 64 or not set(digest_hex) <= _HEX:
        raise ValueError("an identicon needs a hex digest of 16 to 64 characters")
    return hashlib.sha256(digest_hex.lower().encode("ascii")).digest()


def _filled_cells(material: bytes) -> list[tuple[int, int]]:
    """Choose the left three columns from 15 bits and mirror them, so the pattern reads as a face."""
    bits = int.from_bytes(material[:2], "big")
    half = (GRID_SIZE + 1) // 2
    cells = []
    for row in range(GRID_SIZE):
        for column in range(half):
            if bits >> (row * half + column) & 1:
                cells.append((row, column))
                if column != GRID_SIZE - 1 - column:
                    cells.append((row, GRID_SIZE - 1 - column))
    # An empty tile would look like a missing image; one pattern in 32,768 gets a centre dot.
    return sorted(cells) or [(GRID_SIZE // 2, GRID_SIZE // 2)]


def _color(material: bytes) -> str:
    """Any hue, a lively saturation, and the lightness that lands in the readable luminance band."""
    hue = int.from_bytes(material[2:4], "big") % 360 / 360
    saturation = (50 + material[4] % 26) / 100  # 50..75 %
    low, high = _LUMINANCE_RANGE
    target = low + (high - low) * material[5] / 255
    lightness = _lightness_for_luminance(hue, saturation, target)
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in (red, green, blue))


def _lightness_for_luminance(hue: float, saturation: float, target: float) -> float:
    """Bisect HSL lightness: luminance grows with lightness for a fixed hue and saturation."""
    low, high = 0.0, 1.0
    for _ in range(30):
        middle = (low + high) / 2
        if _relative_luminance(colorsys.hls_to_rgb(hue, middle, saturation)) < target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _relative_luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as three channels in 0..1."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
