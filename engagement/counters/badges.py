"""Counter badges that look and measure like shields.io's, as SVG and as shields' endpoint JSON.

The geometry follows shields' badge-maker 6.0.0 (`lib/badge-renderers.js`): a 20 px high badge in two
halves, each text measured with a per-character width table, padded by 5 px on each side and drawn at
ten times its size under `transform="scale(.1)"` so that `textLength` can be given in tenths of a
pixel. For ASCII and Latin-1 text with both halves present, a badge rendered here is byte-for-byte
what badge-maker renders, so ours sit next to shields' own without a seam.

Every string that reaches the SVG is cleaned (control characters dropped, length capped) and
XML-escaped here, whatever the caller already did: the output is served as `image/svg+xml`, where a
stray `<` is markup.
"""

import unicodedata
from typing import NamedTuple

from engagement.counters.numbers import to_fixed

BADGE_STYLES = ("flat", "flat-square", "social")
MAX_TEXT_LENGTH = 64
# shields ignores a shorter cacheSeconds in endpoint JSON; saying less would only mislead readers.
MIN_CACHE_SECONDS = 300
DEFAULT_COLOR = "lightgrey"
DEFAULT_LABEL_COLOR = "#555"

_HEIGHT = 20
_HORIZONTAL_PADDING = 5
_ELLIPSIS = "…"

# shields' named colours as badge-maker 6.0.0 draws them (lib/color.js), then its aliases.
_SHIELDS_COLORS = {
    "brightgreen": "#4b0",
    "green": "#67ac09",
    "yellow": "#d8b800",
    "yellowgreen": "#95991a",
    "orange": "#ea7233",
    "red": "#dd4343",
    "blue": "#007ec6",
    "grey": "#555",
    "lightgrey": "#939393",
}
_SHIELDS_ALIASES = {
    "gray": "grey",
    "lightgray": "lightgrey",
    "critical": "red",
    "important": "orange",
    "success": "brightgreen",
    "informational": "blue",
    "inactive": "lightgrey",
}
# shields accepts any CSS colour keyword; these are the ones badge authors actually use.
_CSS_KEYWORDS = {
    "aqua": "#00ffff",
    "black": "#000000",
    "blueviolet": "#8a2be2",
    "brown": "#a52a2a",
    "chocolate": "#d2691e",
    "coral": "#ff7f50",
    "crimson": "#dc143c",
    "cyan": "#00ffff",
    "darkgreen": "#006400",
    "forestgreen": "#228b22",
    "fuchsia": "#ff00ff",
    "gold": "#ffd700",
    "hotpink": "#ff69b4",
    "indigo": "#4b0082",
    "lime": "#00ff00",
    "magenta": "#ff00ff",
    "maroon": "#800000",
    "navy": "#000080",
    "olive": "#808000",
    "pink": "#ffc0cb",
    "purple": "#800080",
    "royalblue": "#4169e1",
    "salmon": "#fa8072",
    "silver": "#c0c0c0",
    "skyblue": "#87ceeb",
    "teal": "#008080",
    "tomato": "#ff6347",
    "violet": "#ee82ee",
    "white": "#ffffff",
}
_NAMED_COLORS = {
    **_CSS_KEYWORDS,
    **_SHIELDS_COLORS,
    **{alias: _SHIELDS_COLORS[name] for alias, name in _SHIELDS_ALIASES.items()},
}
_HEX_DIGITS = frozenset("0123456789abcdef")

# Bidirectional overrides and isolates would let a label display reversed text.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


class _Font(NamedTuple):
    """Advance widths in px: measured ones for ASCII, Latin-1 and common punctuation, guesses beyond."""

    widths: dict[int, float]
    wide: float  # CJK and other East Asian wide or fullwidth characters
    other: float  # median of the measured table over U+0100..U+2FFF


def _width_table(ascii_widths, latin1_widths, punctuation):
    table = dict(zip(range(0x20, 0x7F), ascii_widths, strict=True))
    table.update(zip(range(0xA0, 0x100), latin1_widths, strict=True))
    table.update(punctuation)
    return table


# Widths from anafanafo 2.0.0 (MIT), the tables badge-maker measures with:
# data/verdana-11px-normal.json for flat badges, data/helvetica-11px-bold.json for social ones.
# fmt: off
_VERDANA_11_ASCII = (  # U+0020..U+007E
    3.87, 4.33, 5.05, 9, 6.99, 11.84, 7.99, 2.95, 5, 5, 6.99, 9,
    4, 5, 4, 5, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99,
    6.99, 6.99, 5, 5, 9, 9, 9, 6, 11, 7.52, 7.54, 7.68,
    8.48, 6.96, 6.32, 8.53, 8.27, 4.63, 5, 7.62, 6.12, 9.27, 8.23, 8.66,
    6.63, 8.66, 7.65, 7.52, 6.78, 8.05, 7.52, 10.88, 7.54, 6.77, 7.54, 5,
    5, 5, 9, 6.99, 6.99, 6.61, 6.85, 5.73, 6.85, 6.55, 3.87, 6.85,
    6.96, 3.02, 3.79, 6.51, 3.02, 10.7, 6.96, 6.68, 6.85, 6.85, 4.69, 5.73,
    4.33, 6.96, 6.51, 9, 6.51, 6.51, 5.78, 6.98, 5, 6.98, 9,
)
_VERDANA_11_LATIN1 = (  # U+00A0..U+00FF
    3.87, 4.33, 6.99, 6.99, 6.99, 6.99, 5, 6.99, 6.99, 11, 6, 7.09,
    9, 0, 11, 6.99, 5.96, 9, 5.96, 5.96, 6.99, 7.06, 6.99, 4,
    6.99, 5.96, 6, 7.09, 11, 11, 11, 6, 7.52, 7.52, 7.52, 7.52,
    7.52, 7.52, 10.83, 7.68, 6.96, 6.96, 6.96, 6.96, 4.63, 4.63, 4.63, 4.63,
    8.53, 8.23, 8.66, 8.66, 8.66, 8.66, 8.66, 9, 8.66, 8.05, 8.05, 8.05,
    8.05, 6.77, 6.66, 6.82, 6.61, 6.61, 6.61, 6.61, 6.61, 6.61, 10.51, 5.73,
    6.55, 6.55, 6.55, 6.55, 3.02, 3.02, 3.02, 3.02, 6.73, 6.96, 6.68, 6.68,
    6.68, 6.68, 6.68, 9, 6.68, 6.96, 6.96, 6.96, 6.96, 6.51, 6.85, 10.7,
)
_VERDANA_11_PUNCTUATION = {
    0x2013: 6.99, 0x2014: 11, 0x2018: 2.95, 0x2019: 2.95, 0x201C: 5.05,
    0x201D: 5.05, 0x2022: 6, 0x2026: 9, 0x20AC: 6.99, 0x2122: 10.74,
}
_HELVETICA_BOLD_11_ASCII = (  # U+0020..U+007E
    3.06, 3.06, 5.09, 6.12, 6.12, 11, 7.53, 3.06, 3.26, 3.26, 4.48, 6.6,
    3.06, 4.48, 3.06, 4.08, 6.12, 6.12, 6.12, 6.12, 6.12, 6.12, 6.12, 6.12,
    6.12, 6.12, 3.06, 3.06, 6.6, 6.6, 6.6, 6.12, 8.8, 7.53, 7.74, 8.15,
    8.15, 7.13, 6.52, 8.35, 8.15, 3.24, 6.12, 7.94, 6.52, 9.98, 8.15, 8.56,
    7.34, 8.56, 7.94, 7.14, 6.72, 8.15, 6.93, 10.38, 7.34, 7.34, 7.13, 3.66,
    4.08, 3.66, 6.6, 5.5, 2.85, 6.31, 6.72, 6.31, 6.72, 6.31, 3.66, 6.72,
    6.52, 2.84, 3.06, 6.31, 2.84, 9.97, 6.52, 6.72, 6.72, 6.72, 4.28, 5.91,
    3.87, 6.52, 5.72, 8.95, 5.91, 5.71, 5.71, 3.66, 2.45, 3.66, 6.6,
)
_HELVETICA_BOLD_11_LATIN1 = (  # U+00A0..U+00FF
    3.06, 3.06, 6.12, 6.12, 6.12, 6.12, 2.45, 6.12, 2.85, 8.8, 3.78, 4.88,
    6.6, 0, 8.8, 2.85, 4.4, 6.6, 4.31, 4.31, 2.85, 6.52, 6.82, 3.06,
    2.85, 4.31, 4.04, 4.88, 9.81, 9.78, 9.78, 6.12, 7.53, 7.53, 7.53, 7.53,
    7.53, 7.53, 10.79, 8.15, 7.13, 7.13, 7.13, 7.13, 3.24, 3.24, 3.24, 3.24,
    8.15, 8.15, 8.56, 8.56, 8.56, 8.56, 8.56, 6.6, 8.56, 8.15, 8.15, 8.15,
    8.15, 7.34, 7.34, 6.72, 6.31, 6.31, 6.31, 6.31, 6.31, 6.31, 9.98, 6.31,
    6.31, 6.31, 6.31, 6.31, 2.84, 2.84, 2.84, 2.84, 6.72, 6.52, 6.72, 6.72,
    6.72, 6.72, 6.72, 6.6, 6.72, 6.52, 6.52, 6.52, 6.52, 5.71, 6.72, 9.97,
)
_HELVETICA_BOLD_11_PUNCTUATION = {
    0x2013: 5.5, 0x2014: 11, 0x2018: 3.06, 0x2019: 3.06, 0x201C: 5.09,
    0x201D: 5.09, 0x2022: 3.85, 0x2026: 11, 0x20AC: 6.12, 0x2122: 11,
}
# fmt: on
_VERDANA_11 = _Font(
    widths=_width_table(_VERDANA_11_ASCII, _VERDANA_11_LATIN1, _VERDANA_11_PUNCTUATION), wide=11, other=7.52
)
_HELVETICA_BOLD_11 = _Font(
    widths=_width_table(_HELVETICA_BOLD_11_ASCII, _HELVETICA_BOLD_11_LATIN1, _HELVETICA_BOLD_11_PUNCTUATION),
    wide=11,
    other=7.41,
)


def normalize_color(value: str | None, default: str) -> str:
    """Resolve a shields colour (name, alias, CSS keyword, or 3/6-digit hex with or without `#`) to SVG hex.

    Anything unrecognised gives `default`, which is resolved the same way and must itself be valid.
    """
    resolved = _color_to_hex(value) or _color_to_hex(default)
    if resolved is None:
        raise ValueError(f"default colour {default!r} is not a colour")
    return resolved


# Rendered on a miss of the badge answers the routes keep per query string (engagement.caching), so a
# badge is rendered once per process per count, not per request.
def render_svg(
    *, label: str, message: str, color: str, style: str = "flat", label_color: str = DEFAULT_LABEL_COLOR
) -> str:
    """Render a shields-compatible badge; `style` is one of BADGE_STYLES.

    The social style ignores both colours, as shields' does. An empty label gives a message-only badge.
    """
    label = _clean_text(label)
    message = _clean_text(message)
    if style == "social":
        return _render_social(label=label, message=message)
    if style not in BADGE_STYLES:
        raise ValueError(f"unknown badge style {style!r}; expected one of {', '.join(BADGE_STYLES)}")
    return _render_flat(
        label=label,
        message=message,
        color=normalize_color(color, DEFAULT_COLOR),
        label_color=normalize_color(label_color, DEFAULT_LABEL_COLOR),
        square=style == "flat-square",
    )


def endpoint_json(*, label: str, message: str, color: str, cache_seconds: int = MIN_CACHE_SECONDS) -> dict:
    """The same badge as shields' endpoint JSON (schemaVersion 1), for `img.shields.io/endpoint?url=...`.

    Named colours stay names and hex loses its `#`, both as shields' endpoint docs show them;
    cacheSeconds is raised to shields' minimum of 300. shields rejects an empty message, so do we.
    """
    message = _clean_text(message)
    if not message:
        raise ValueError("a badge message must not be empty")
    return {
        "schemaVersion": 1,
        "label": _clean_text(label),
        "message": message,
        "color": _endpoint_color(color) or _endpoint_color(DEFAULT_COLOR),
        "cacheSeconds": max(int(cache_seconds), MIN_CACHE_SECONDS),
    }


def _color_key(value: str | None) -> str:
    return (value or "").strip().lower()


def _hex_digits(key: str) -> str | None:
    digits = key.removeprefix("#")
    if len(digits) in (3, 6) and set(digits) <= _HEX_DIGITS:
        return digits
    return None


def _color_to_hex(value: str | None) -> str | None:
    key = _color_key(value)
    if key in _NAMED_COLORS:
        return _NAMED_COLORS[key]
    digits = _hex_digits(key)
    return f"#{digits}" if digits else None


def _endpoint_color(value: str | None) -> str | None:
    key = _color_key(value)
    if key in _NAMED_COLORS:
        return key
    return _hex_digits(key)


def _clean_text(value: str) -> str:
    """Make any string safe to measure and to place in XML: one line, printable, at most MAX_TEXT_LENGTH."""
    kept = []
    for char in str(value):
        category = unicodedata.category(char)
        if char.isspace():
            kept.append(" ")
        elif category in ("Cc", "Cs") or char in _BIDI_CONTROLS or char in "\ufffe\uffff":
            continue  # not allowed in XML 1.0, or able to reorder what readers see
        else:
            kept.append(char)
    text = "".join(kept).strip()
    if len(text) > MAX_TEXT_LENGTH:
        text = text[: MAX_TEXT_LENGTH - 1].rstrip() + _ELLIPSIS
    return text


def _escape(text: str) -> str:
    return text.translate(_XML_ESCAPES)


def _char_width(char: str, font: _Font) -> float:
    width = font.widths.get(ord(char))
    if width is not None:
        return width
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0.0  # combining marks and joiners draw on their neighbour, not beside it
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return font.wide
    return font.other


def _preferred_width(text: str, font: _Font) -> int:
    """shields' `preferredWidthOf`: the summed width truncated, then rounded up to an odd number."""
    total = 0.0
    for char in text:
        total += _char_width(char, font)  # added one by one as JavaScript does; sum() would differ
    width = int(total)
    return width + 1 if width % 2 == 0 else width


def _number(value: float) -> str:
    """Write a coordinate as JavaScript's String(number) does for the halves and integers used here."""
    return str(int(value)) if value == int(value) else repr(value)


def _element(name: str, attributes: dict[str, str | float], content: str = "") -> str:
    rendered = "".join(
        f' {key}="{_number(value) if isinstance(value, int | float) else _escape(value)}"'
        for key, value in attributes.items()
    )
    return f"<{name}{rendered}>{content}</{name}>" if content else f"<{name}{rendered}/>"


def _svg(*, width: int, label: str, message: str, body: str) -> str:
    accessible_text = ": ".join(part for part in (label, message) if part)
    attributes = {
        "xmlns": "http://www.w3.org/2000/svg",
        "width": width,
        "height": _HEIGHT,
        "role": "img",
        "aria-label": accessible_text,
    }
    return _element("svg", attributes, _element("title", {}, _escape(accessible_text)) + body)


def _text_colors(background_hex: str) -> tuple[str, str]:
    """shields' `colorsForBackground`: white text with a dark shadow unless the background is light."""
    digits = background_hex.removeprefix("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    brightness = float(to_fixed((red * 299 + green * 587 + blue * 114) / 255000, 2))
    return ("#fff", "#010101") if brightness <= 0.69 else ("#333", "#ccc")


def _flat_text(*, text: str, x: float, text_width: int, background: str, shadow: bool) -> str:
    if not text:
        return ""
    text_color, shadow_color = _text_colors(background)
    content = _escape(text)
    text_length = 10 * text_width
    # The group around the texts already fills white, so white text carries no fill of its own.
    fill = {} if text_color == "#fff" else {"fill": text_color}
    if not shadow:
        return _element(
            "text", {"x": x, "y": 140, "textLength": text_length, "transform": "scale(.1)", **fill}, content
        )
    shadow_texts = _element(
        "text",
        {"x": x, "y": 150, "fill-opacity": ".8", "filter": "url(#blur)", "textLength": text_length},
        content,
    ) + _element("text", {"x": x, "y": 150, "fill-opacity": ".3", "textLength": text_length}, content)
    return _element(
        "g",
        {"transform": "scale(.1)"},
        _element("g", {"aria-hidden": "true", "fill": shadow_color}, shadow_texts)
        + _element("text", {"x": x, "y": 140, "textLength": text_length, **fill}, content),
    )


def _render_flat(*, label: str, message: str, color: str, label_color: str, square: bool) -> str:
    padding = _HORIZONTAL_PADDING
    label_width = _preferred_width(label, _VERDANA_11) if label else 0
    left_width = label_width + 2 * padding if label else 0
    message_width = _preferred_width(message, _VERDANA_11)
    right_width = message_width + 2 * padding
    width = left_width + right_width
    # shields' margins: the message starts a pixel inside the label half, and a lone message a pixel in.
    message_margin = left_width - (1 if message else 0) + (0 if label else 1)
    if not label:
        label_color = color

    label_text = _flat_text(
        text=label,
        x=10 * (1 + label_width / 2 + padding),
        text_width=label_width,
        background=label_color,
        shadow=not square,
    )
    message_text = _flat_text(
        text=message,
        x=10 * (message_margin + message_width / 2 + padding),
        text_width=message_width,
        background=color,
        shadow=not square,
    )
    foreground = _element(
        "g",
        {
            "fill": "#fff",
            "text-anchor": "middle",
            "font-family": "Verdana,Geneva,DejaVu Sans,sans-serif",
            "text-rendering": "geometricPrecision",
            "font-size": 110,
        },
        label_text + message_text,
    )
    halves = _element("rect", {"width": left_width, "height": _HEIGHT, "fill": label_color}) + _element(
        "rect", {"x": left_width, "width": right_width, "height": _HEIGHT, "fill": color}
    )
    if square:
        body = _element("g", {"shape-rendering": "crispEdges"}, halves) + foreground
    else:
        body = (
            '<filter id="blur"><feGaussianBlur stdDeviation="16"/></filter>'
            '<linearGradient id="s" x2="0" y2="100%">'
            '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/>'
            "</linearGradient>"
            + _element(
                "clipPath", {"id": "r"}, _element("rect", {"width": width, "height": _HEIGHT, "rx": 3})
            )
            + _element(
                "g",
                {"clip-path": "url(#r)"},
                halves + _element("rect", {"width": width, "height": _HEIGHT, "fill": "url(#s)"}),
            )
            + foreground
        )
    return _svg(width=width, label=label, message=message, body=body)


def _render_social(*, label: str, message: str) -> str:
    """shields' social style: a GitHub-like button with the label in bold and a count bubble with a notch."""
    label = label[:1].upper() + label[1:]
    internal_height = _HEIGHT - 1
    gutter = 6
    label_text_width = _preferred_width(label, _HELVETICA_BOLD_11)
    message_text_width = _preferred_width(message, _HELVETICA_BOLD_11)
    label_rect_width = label_text_width + 2 * _HORIZONTAL_PADDING
    message_rect_width = message_text_width + 2 * 4
    width = label_rect_width + 1 + (gutter + message_rect_width if message else 0)

    bubble = ""
    message_texts = ""
    if message:
        bubble_x = label_rect_width + gutter + 0.5
        bubble = (
            _element(
                "rect",
                {
                    "x": bubble_x,
                    "y": ".5",
                    "width": message_rect_width,
                    "height": internal_height,
                    "rx": 2,
                    "fill": "#fafafa",
                },
            )
            + _element(
                "rect",
                {"x": label_rect_width + gutter, "y": 7.5, "width": ".5", "height": 5, "stroke": "#fafafa"},
            )
            + _element("path", {"d": f"M{_number(bubble_x)} 6.5 l-3 3v1 l3 3", "fill": "#fafafa"})
        )
        message_texts = _social_text(
            text=message,
            x=10 * (label_rect_width + gutter + message_rect_width / 2),
            text_width=message_text_width,
            text_id="rlink",
        )
    label_rect = {"x": ".5", "y": ".5", "width": label_rect_width, "height": internal_height, "rx": 2}
    # The hover rules serve links we never emit; they stay so the SVG remains identical to shields'.
    body = (
        "<style>a:hover #llink{fill:url(#b);stroke:#ccc}a:hover #rlink{fill:#4183c4}</style>"
        '<linearGradient id="a" x2="0" y2="100%">'
        '<stop offset="0" stop-color="#fcfcfc" stop-opacity="0"/><stop offset="1" stop-opacity=".1"/>'
        "</linearGradient>"
        '<linearGradient id="b" x2="0" y2="100%">'
        '<stop offset="0" stop-color="#ccc" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/>'
        "</linearGradient>"
        + _element(
            "g",
            {"stroke": "#d5d5d5"},
            _element("rect", {"stroke": "none", "fill": "#fcfcfc", **label_rect}) + bubble,
        )
        + _element(
            "g",
            {
                "aria-hidden": "true",
                "fill": "#333",
                "text-anchor": "middle",
                "font-family": "Helvetica Neue,Helvetica,Arial,sans-serif",
                "text-rendering": "geometricPrecision",
                "font-weight": 700,
                "font-size": "110px",
                "line-height": "14px",
            },
            _element("rect", {"id": "llink", "stroke": "#d5d5d5", "fill": "url(#a)", **label_rect})
            + _social_text(
                text=label,
                x=10 * (label_text_width / 2 + _HORIZONTAL_PADDING),
                text_width=label_text_width,
                text_id=None,
            )
            + message_texts,
        )
    )
    return _svg(width=width, label=label, message=message, body=body)


def _social_text(*, text: str, x: float, text_width: int, text_id: str | None) -> str:
    if not text:
        return ""
    content = _escape(text)
    text_length = 10 * text_width
    identity = {"id": text_id} if text_id else {}
    shadow = {"aria-hidden": "true", "x": x, "y": 150, "fill": "#fff"}
    return _element(
        "text", {**shadow, "transform": "scale(.1)", "textLength": text_length}, content
    ) + _element(
        "text", {**identity, "x": x, "y": 140, "transform": "scale(.1)", "textLength": text_length}, content
    )
