"""The widget's source files joined into the one script served as /widget.js.

There is no build step: engagement/static/widget/ holds plain scripts that share one closure scope,
ORDER lists them in load order, styles.css becomes the WIDGET_CSS string they attach to each shadow
root, and messages.json (the translation table) becomes MESSAGE_KEYS plus MESSAGE_TABLE, each
language's texts in key order so the keys are sent once. Scripts lose their comments and the
whitespace JavaScript does not need (compact_script); names are never rewritten.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

WIDGET_DIRECTORY = Path(__file__).resolve().parent.parent / "static" / "widget"


def widget_script_names(directory: Path = WIDGET_DIRECTORY) -> list[str]:
    """The script files of the widget, in the order ORDER gives."""
    lines = (directory / "ORDER").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def widget_messages(directory: Path = WIDGET_DIRECTORY) -> dict[str, dict[str, str | dict[str, str]]]:
    """The translation table: language -> message key -> text (or plural category -> text)."""
    return json.loads((directory / "messages.json").read_text(encoding="utf-8"))


def widget_stylesheet(directory: Path = WIDGET_DIRECTORY) -> str:
    """WIDGET_CSS: the text of the <style> the widget puts in each shadow root (pages that embed the
    widget under a CSP allow it by this text's hash)."""
    return _compact_css((directory / "styles.css").read_text(encoding="utf-8"))


def build_widget_bundle(directory: Path = WIDGET_DIRECTORY) -> str:
    """The complete widget.js: stylesheet and translations as data, then every script, in one strict IIFE."""
    css = widget_stylesheet(directory)
    messages = widget_messages(directory)
    keys = list(messages["en"])
    for language, texts in messages.items():
        if set(texts) != set(keys):
            raise ValueError(
                f"messages.json: {language} keys differ from en: {sorted(set(texts) ^ set(keys))}"
            )
    table = {language: [texts[key] for key in keys] for language, texts in messages.items()}
    parts = [
        f"const WIDGET_CSS = {_json(css)};",
        f"const MESSAGE_KEYS = {_json(keys)};",
        f"const MESSAGE_TABLE = {_json(table)};",
    ]
    parts += [
        compact_script((directory / name).read_text(encoding="utf-8"))
        for name in widget_script_names(directory)
    ]
    return '(function(){"use strict";\n' + "\n".join(parts) + "\n})();\n"


def _json(value: object) -> str:
    # UTF-8 as is: the service sends widget.js with charset=utf-8, and \u escapes would cost bytes.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# After a value a "/" divides; after an operator, "(" or one of these keywords it opens a regex.
_KEYWORDS_BEFORE_VALUE = {
    "return",
    "typeof",
    "case",
    "do",
    "else",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
}
_WORD = re.compile(r"[\w$\u0080-\uffff]+")
# A line break is only kept where it may end a statement (automatic semicolon insertion).
_JOINS_AFTER = {"{", "(", "[", ",", ";", "=>", "=", "&&", "||", "??", "?", ":"}
_JOINS_BEFORE = set(")]},.?:")


def compact_script(source: str) -> str:
    """JavaScript without comments and without whitespace that no token needs; behaviour unchanged.

    A tokenizer just good enough for modern hand-written code: strings, template literals (with
    ${...}), regular expressions and comments are recognised; everything else is words and punctuation.
    """
    tokens: list[str] = []
    after_value = False  # whether the last token ends a value: a word, a literal, ")" "]" "}"
    gap = ""  # the whitespace seen since the last token: "", " " or "\n"
    i = 0
    while i < len(source):
        char = source[i]
        if char in " \t\r\n":
            gap = "\n" if char == "\n" or gap == "\n" else " "
            i += 1
            continue
        if source.startswith("//", i):
            i = source.find("\n", i) if "\n" in source[i:] else len(source)
            continue
        if source.startswith("/*", i):
            end = source.index("*/", i + 2) + 2
            gap = "\n" if "\n" in source[i:end] or gap == "\n" else (gap or " ")
            i = end
            continue
        is_value = True
        if char in "\"'":
            end = _string_end(source, i)
        elif char == "`":
            end = _template_end(source, i)
        elif char == "/" and not after_value:
            end = _regex_end(source, i)
        elif match := _WORD.match(source, i):
            end = match.end()
            is_value = match.group() not in _KEYWORDS_BEFORE_VALUE
        else:
            end = i + 1
            while end < len(source) and source[i : end + 1] in _PUNCTUATORS:
                end += 1
            is_value = source[i:end] in {")", "]", "}"}
        token = source[i:end]
        after_value = is_value
        if tokens:
            tokens.append(_separator(tokens[-1], token, gap))
        tokens.append(token)
        gap = ""
        i = end
    return "".join(tokens)


_PUNCTUATORS = {
    *"{}()[];,<>+-*/%&|^!~?:=.@#",
    *("=>", "==", "!=", "<=", ">=", "&&", "||", "??", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|="),
    *(
        "^=",
        "**",
        "?.",
        "...",
        "===",
        "!==",
        "**=",
        "<<",
        ">>",
        "<<=",
        ">>=",
        ">>>",
        ">>>=",
        "&&=",
        "||=",
        "??=",
    ),
}


def _separator(previous: str, token: str, gap: str) -> str:
    if not gap:
        return ""
    if gap == "\n" and previous not in _JOINS_AFTER and token[0] not in _JOINS_BEFORE:
        return "\n"
    if _WORD.fullmatch(previous[-1]) and _WORD.fullmatch(token[0]):
        return " "
    # "a + +b", "a - -b", "x / /re/": gluing these would make a different token.
    if previous[-1] in "+-/" and token[0] == previous[-1]:
        return " "
    return ""


def _string_end(source: str, start: int) -> int:
    quote, i = source[start], start + 1
    while source[i] != quote:
        i += 2 if source[i] == "\\" else 1
    return i + 1


def _template_end(source: str, start: int) -> int:
    i = start + 1
    while source[i] != "`":
        if source[i] == "\\":
            i += 2
        elif source.startswith("${", i):
            i = _expression_end(source, i + 2)
        else:
            i += 1
    return i + 1


def _expression_end(source: str, i: int) -> int:
    """Index just past the "}" closing a template's ${ expression that starts at i."""
    depth = 0
    while depth or source[i] != "}":
        char = source[i]
        if char in "\"'":
            i = _string_end(source, i)
            continue
        if char == "`":
            i = _template_end(source, i)
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        i += 1
    return i + 1


def _regex_end(source: str, start: int) -> int:
    i, in_class = start + 1, False
    while in_class or source[i] != "/":
        if source[i] == "\\":
            i += 1
        elif source[i] in "[]":
            in_class = source[i] == "["
        i += 1
    i += 1
    while i < len(source) and source[i].isalpha():
        i += 1
    return i


def _compact_css(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    source = re.sub(r"\s+", " ", source)
    # Spaces around these never matter in CSS; a space before ":" can (".a :focus"), so it stays.
    source = re.sub(r"\s*([{};,>])\s*", r"\1", source)
    source = re.sub(r":\s+", ":", source).replace(" !important", "!important")
    return re.sub(r"(?<![\w.])0\.(\d)", r".\1", source).replace(";}", "}").strip()
