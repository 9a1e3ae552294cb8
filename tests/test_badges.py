"""Counter badges: shields-compatible SVG and endpoint JSON that stay well-formed whatever the text.

The golden SVGs in tests/golden/ are the expected output byte for byte; the ASCII ones are identical
to what shields' badge-maker 6.0.0 renders for the same input. After a deliberate change to the
badge, regenerate them with `UPDATE_GOLDEN=1 pytest tests/test_badges.py` and review the diff.
"""

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engagement.counters.badges import (
    BADGE_STYLES,
    MAX_TEXT_LENGTH,
    endpoint_json,
    normalize_color,
    render_svg,
)

GOLDEN_DIR = Path(__file__).parent / "golden"
SVG = "{http://www.w3.org/2000/svg}"

# Advance widths of Verdana 11px as shields measures them (anafanafo's verdana-11px-normal table).
VERDANA_11PX = {"F": 6.32, "o": 6.68, "l": 3.02, "w": 9, "e": 6.55, "r": 4.69, "s": 5.73}
VERDANA_11PX.update({"1": 6.99, ".": 4, "2": 6.99, "k": 6.51})
SHIELDS_HORIZONTAL_PADDING = 5

GOLDEN_BADGES = {
    "flat_followers": {"label": "Followers", "message": "1.2k", "color": "blue"},
    "flat_square_subscribers": {
        "label": "Subscribers",
        "message": "12k",
        "color": "success",
        "style": "flat-square",
    },
    "social_fans": {"label": "fans", "message": "999", "color": "blue", "style": "social"},
    "flat_unicode_label": {"label": "Abonnés · 読者", "message": "1.5M", "color": "orange"},
}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def title_of(svg: str) -> str:
    return parse(svg).find(f"{SVG}title").text


def rect_widths(svg: str) -> list[int]:
    return [int(rect.get("width")) for rect in parse(svg).iter(f"{SVG}rect")]


@pytest.mark.parametrize("name", sorted(GOLDEN_BADGES))
def test_badge_matches_its_golden_svg(name):
    svg = render_svg(**GOLDEN_BADGES[name])
    golden = GOLDEN_DIR / f"badge_{name}.svg"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(svg, encoding="utf-8")
    assert svg == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("style", BADGE_STYLES)
def test_every_style_is_an_accessible_20px_svg(style):
    root = parse(render_svg(label="Followers", message="1.2k", color="blue", style=style))

    assert root.tag == f"{SVG}svg"
    assert root.get("height") == "20"
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Followers: 1.2k"
    assert root.find(f"{SVG}title").text == "Followers: 1.2k"


def test_followers_label_half_is_the_verdana_width_plus_shields_padding():
    text_width = int(sum(VERDANA_11PX[char] for char in "Followers"))  # 51.69 -> 51, already odd
    svg = render_svg(label="Followers", message="1.2k", color="blue", style="flat-square")

    label_rect, _ = rect_widths(svg)
    assert label_rect == text_width + 2 * SHIELDS_HORIZONTAL_PADDING == 61
    assert 'textLength="510"' in svg


def test_an_even_text_width_is_rounded_up_to_odd_like_shields():
    text_width = int(sum(VERDANA_11PX[char] for char in "1.2k"))  # 24.49 -> 24 -> 25
    svg = render_svg(label="Followers", message="1.2k", color="blue", style="flat-square")

    assert rect_widths(svg)[1] == text_width + 1 + 2 * SHIELDS_HORIZONTAL_PADDING == 35
    assert parse(svg).get("width") == "96"


@pytest.mark.parametrize("style", BADGE_STYLES)
def test_a_longer_label_makes_a_wider_badge(style):
    short = parse(render_svg(label="Fans", message="12", color="blue", style=style))
    long = parse(render_svg(label="Fans and followers", message="12", color="blue", style=style))

    assert int(long.get("width")) > int(short.get("width"))


def test_wide_characters_are_measured_wider_than_latin_ones():
    latin = parse(render_svg(label="aaaa", message="1", color="blue"))
    cjk = parse(render_svg(label="読者読者", message="1", color="blue"))

    assert int(cjk.get("width")) > int(latin.get("width"))


def test_combining_marks_add_no_width():
    precomposed = parse(render_svg(label="Abonné", message="1", color="blue"))
    combining = parse(render_svg(label="Abonne\u0301", message="1", color="blue"))

    assert combining.get("width") == precomposed.get("width")


def test_flat_badge_has_a_gradient_and_flat_square_has_none():
    flat = parse(render_svg(label="Fans", message="12", color="blue", style="flat"))
    square = parse(render_svg(label="Fans", message="12", color="blue", style="flat-square"))

    assert flat.find(f"{SVG}linearGradient") is not None
    assert flat.find(f"{SVG}clipPath/{SVG}rect").get("rx") == "3"
    assert square.find(f"{SVG}linearGradient") is None
    assert square.find(f"{SVG}g").get("shape-rendering") == "crispEdges"


def test_text_sits_at_ten_times_its_size_under_a_scale_transform():
    svg = parse(render_svg(label="Fans", message="12", color="blue", style="flat-square"))

    texts = list(svg.iter(f"{SVG}text"))
    assert [text.text for text in texts] == ["Fans", "12"]
    assert all(text.get("transform") == "scale(.1)" for text in texts)
    assert all(int(text.get("textLength")) % 10 == 0 for text in texts)


def test_social_badge_is_a_bold_capitalised_button_with_a_count_bubble():
    svg = render_svg(label="fans", message="999", color="red", style="social")
    root = parse(svg)

    assert root.get("aria-label") == "Fans: 999"
    text_group = next(group for group in root.iter(f"{SVG}g") if group.get("font-weight"))
    assert text_group.get("font-weight") == "700"
    assert [text.text for text in text_group.iter(f"{SVG}text")] == ["Fans", "Fans", "999", "999"]
    notch = root.find(f".//{SVG}path")
    assert notch.get("d").endswith("l-3 3v1 l3 3")
    assert "#dd4343" not in svg  # the social style ignores colours, as shields' does


def test_social_badge_without_a_message_has_no_bubble():
    root = parse(render_svg(label="fans", message="", color="blue", style="social"))

    assert root.find(f".//{SVG}path") is None
    assert root.get("aria-label") == "Fans"


def test_empty_label_gives_a_message_only_badge():
    svg = render_svg(label="", message="12k", color="blue")

    assert title_of(svg) == "12k"
    assert rect_widths(svg)[1] == 0  # the left half collapses, as in shields
    assert [text.text for text in parse(svg).iter(f"{SVG}text")] == ["12k", "12k", "12k"]


def test_light_background_gets_dark_text():
    svg = parse(render_svg(label="Fans", message="12", color="fff", style="flat-square"))

    label_text, message_text = svg.iter(f"{SVG}text")
    assert label_text.get("fill") is None  # inherits white from its group on the grey label
    assert message_text.get("fill") == "#333"


def test_unknown_style_is_rejected():
    with pytest.raises(ValueError, match="unknown badge style"):
        render_svg(label="Fans", message="12", color="blue", style="for-the-badge")


# --- safety ------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", BADGE_STYLES)
def test_markup_in_the_label_stays_text(style):
    label = '<script>alert("x")</script>'
    svg = render_svg(label=label, message="<b>1</b>", color="blue", style=style)
    root = parse(svg)

    assert "<script" not in svg
    assert not [element for element in root.iter() if element.tag.endswith("script")]
    assert root.find(f"{SVG}title").text == f"{label}: <b>1</b>"
    assert root.get("aria-label") == f"{label}: <b>1</b>"


@pytest.mark.parametrize("style", BADGE_STYLES)
def test_ampersands_and_quotes_survive_escaping(style):
    label = 'Tom & "Jerry"\'s'
    svg = render_svg(label=label, message="a&b", color="blue", style=style)
    root = parse(svg)

    assert root.get("aria-label") == f"{label}: a&b"
    assert root.find(f"{SVG}title").text == f"{label}: a&b"
    assert "&amp;" in svg
    assert "&quot;" in svg
    assert "&apos;" in svg


@pytest.mark.parametrize("style", BADGE_STYLES)
def test_a_10kb_label_is_cut_to_a_small_well_formed_badge(style):
    svg = render_svg(label="x" * 10_240, message="1" * 10_240, color="blue", style=style)
    root = parse(svg)

    label, message = root.get("aria-label").split(": ")
    assert len(label) == len(message) == MAX_TEXT_LENGTH
    assert label.endswith("…")
    assert len(svg.encode("utf-8")) < 5_000


def test_control_characters_and_bidi_overrides_are_removed():
    svg = render_svg(label="Fans\x00\x1b[1m\u202e\x7f\x85", message="1\ud8002", color="blue")

    assert title_of(svg) == "Fans[1m: 12"
    svg.encode("utf-8")  # no lone surrogate left to break encoding


def test_line_breaks_and_tabs_become_spaces_and_ends_are_trimmed():
    svg = render_svg(label="  Fans\nand\tfriends\r\n", message=" 12 ", color="blue")

    assert title_of(svg) == "Fans and friends: 12"


@pytest.mark.parametrize(
    "color",
    ['"/><script>alert(1)</script>', "red;stroke:url(javascript:alert(1))", "url(#s)", "#12345", "ggg"],
)
def test_a_colour_that_is_not_one_falls_back_to_lightgrey(color):
    svg = render_svg(label="Fans", message="12", color=color, style="flat-square")

    fills = [rect.get("fill") for rect in parse(svg).iter(f"{SVG}rect")]
    assert fills == ["#555", "#939393"]


# --- colours -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("brightgreen", "#4b0"),
        ("green", "#67ac09"),
        ("yellowgreen", "#95991a"),
        ("yellow", "#d8b800"),
        ("orange", "#ea7233"),
        ("red", "#dd4343"),
        ("blue", "#007ec6"),
        ("grey", "#555"),
        ("lightgrey", "#939393"),
        ("success", "#4b0"),
        ("important", "#ea7233"),
        ("critical", "#dd4343"),
        ("informational", "#007ec6"),
        ("inactive", "#939393"),
        ("gray", "#555"),
        ("lightgray", "#939393"),
        ("blueviolet", "#8a2be2"),
        ("  Blue ", "#007ec6"),
        ("abc", "#abc"),
        ("#ABC", "#abc"),
        ("1a2B3c", "#1a2b3c"),
        ("#1a2b3c", "#1a2b3c"),
    ],
)
def test_shields_colour_names_and_hex_are_understood(value, expected):
    assert normalize_color(value, "#000") == expected


@pytest.mark.parametrize(
    "value", [None, "", "   ", "#12", "#1234", "12345g", "rgb(1,2,3)", "##abc", "bluish"]
)
def test_anything_else_gives_the_default_colour(value):
    assert normalize_color(value, "informational") == "#007ec6"


def test_an_invalid_default_colour_is_a_programming_error():
    with pytest.raises(ValueError, match="default colour"):
        normalize_color("nope", "also-nope")


# --- endpoint JSON -------------------------------------------------------------------------------

# shields' endpoint schema, from its docs (shields.io/badges/endpoint-badge) and its validator
# (services/endpoint-common.js): unknown keys are rejected, message may not be empty.
ENDPOINT_SCHEMA = {
    "type": "object",
    "required": ["schemaVersion", "label", "message"],
    "additionalProperties": False,
    "properties": {
        "schemaVersion": {"const": 1},
        "label": {"type": "string"},
        "message": {"type": "string", "minLength": 1},
        "color": {"type": "string"},
        "labelColor": {"type": "string"},
        "isError": {"type": "boolean"},
        "namedLogo": {"type": "string"},
        "logoSvg": {"type": "string"},
        "logoColor": {"type": "string"},
        "logoWidth": {"type": "number"},
        "style": {"type": "string"},
        "cacheSeconds": {"type": "integer", "minimum": 300},
    },
}
JSON_TYPES = {"string": (str,), "boolean": (bool,), "number": (int, float), "integer": (int,)}


def schema_errors(document: object, schema: dict = ENDPOINT_SCHEMA) -> list[str]:
    """The handful of JSON Schema keywords ENDPOINT_SCHEMA uses, checked by hand."""
    if not isinstance(document, dict):
        return ["not an object"]
    errors = [f"missing {key}" for key in schema["required"] if key not in document]
    errors += [f"unknown {key}" for key in document if key not in schema["properties"]]
    for key, rules in schema["properties"].items():
        if key not in document:
            continue
        value = document[key]
        if "const" in rules and (value != rules["const"] or isinstance(value, bool)):
            errors.append(f"{key} must be {rules['const']}")
        if "type" in rules:
            types = JSON_TYPES[rules["type"]]
            if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
                errors.append(f"{key} must be a {rules['type']}")
                continue
        if "minLength" in rules and len(value) < rules["minLength"]:
            errors.append(f"{key} is too short")
        if "minimum" in rules and value < rules["minimum"]:
            errors.append(f"{key} is below {rules['minimum']}")
    return errors


def test_schema_check_rejects_what_shields_rejects():
    assert schema_errors({"schemaVersion": 1, "label": "a", "message": "b"}) == []
    assert schema_errors({"schemaVersion": 2, "label": "a", "message": ""}) == [
        "schemaVersion must be 1",
        "message is too short",
    ]
    assert schema_errors({"schemaVersion": 1, "message": "b", "extra": 1, "cacheSeconds": 60}) == [
        "missing label",
        "unknown extra",
        "cacheSeconds is below 300",
    ]
    assert schema_errors({"schemaVersion": 1, "label": "a", "message": "b", "isError": "no"}) == [
        "isError must be a boolean"
    ]


def test_endpoint_json_follows_the_shields_schema():
    document = endpoint_json(label="Followers", message="1.2k", color="blue")

    assert schema_errors(document) == []
    assert document == {
        "schemaVersion": 1,
        "label": "Followers",
        "message": "1.2k",
        "color": "blue",
        "cacheSeconds": 300,
    }
    assert json.loads(json.dumps(document)) == document


@pytest.mark.parametrize(
    ("color", "expected"),
    [
        ("success", "success"),
        ("BrightGreen", "brightgreen"),
        ("blueviolet", "blueviolet"),
        ("#ABC", "abc"),
        ("1a2b3c", "1a2b3c"),
        ("url(javascript:x)", "lightgrey"),
    ],
)
def test_endpoint_colours_are_names_or_hex_without_hash(color, expected):
    assert endpoint_json(label="Fans", message="1", color=color)["color"] == expected


@pytest.mark.parametrize(("asked", "sent"), [(0, 300), (60, 300), (300, 300), (3600, 3600)])
def test_endpoint_cache_lifetime_is_at_least_shields_minimum(asked, sent):
    document = endpoint_json(label="Fans", message="1", color="blue", cache_seconds=asked)

    assert document["cacheSeconds"] == sent
    assert schema_errors(document) == []


def test_endpoint_text_is_cleaned_like_the_svg():
    document = endpoint_json(label="Fans\x00\n" + "x" * 100, message="  12 ", color="blue")

    assert document["message"] == "12"
    assert document["label"].startswith("Fans x")
    assert len(document["label"]) == MAX_TEXT_LENGTH
    assert schema_errors(document) == []


def test_endpoint_label_may_be_empty_but_message_may_not():
    assert schema_errors(endpoint_json(label="", message="12", color="blue")) == []
    with pytest.raises(ValueError, match="must not be empty"):
        endpoint_json(label="Fans", message=" \x00 ", color="blue")
