"""What "safe to insert into a page" means for stored comment HTML, checked by parsing, not substrings.

Shared by the example-based and the property-based rendering tests so both hold the output to one definition.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from engagement.rendering import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, ALLOWED_URL_SCHEMES

# Raw "<" only survives sanitizing as the start of a real tag, so any of these openings is a live element.
_DANGEROUS_TAG_OPENING = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|svg|math|style|base|meta|link|img|form|frame|noscript|template)\b",
    re.IGNORECASE,
)
_URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data", "background"})
# Browsers drop these before looking for a scheme, which is how "java\tscript:" and " javascript:" work.
_IGNORED_BY_URL_PARSERS = re.compile(r"[\x00-\x20\x7f]")


class _ElementCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    collector = _ElementCollector()
    collector.feed(html)
    collector.close()
    return collector.elements


def _url_problem(tag: str, name: str, value: str | None) -> str | None:
    scheme = urlsplit(_IGNORED_BY_URL_PARSERS.sub("", value or "")).scheme.lower()
    if scheme not in ALLOWED_URL_SCHEMES:
        return f"<{tag} {name}={value!r}> has scheme {scheme!r}"
    return None


def unsafe_parts(html: str) -> list[str]:
    """Every reason `html` would be unsafe to insert into a page; empty when it is safe."""
    problems = []
    if "<script" in html.lower():
        problems.append("contains '<script'")
    problems += [f"opens <{match}>" for match in _DANGEROUS_TAG_OPENING.findall(html)]
    for tag, attrs in _elements(html):
        if tag not in ALLOWED_TAGS:
            problems.append(f"element <{tag}> is not allowed")
        for name, value in attrs:
            if name.startswith("on"):
                problems.append(f"event handler {name}= on <{tag}>")
            elif name != "rel" and name not in ALLOWED_ATTRIBUTES.get(tag, ()):
                problems.append(f"attribute {name}= on <{tag}> is not allowed")
            if name in _URL_ATTRIBUTES and (problem := _url_problem(tag, name, value)):
                problems.append(problem)
    return problems


def hrefs(html: str) -> list[str | None]:
    """The href of every <a> in `html`, decoded as a browser would read it (None when there is none)."""
    return [dict(attrs).get("href") for tag, attrs in _elements(html) if tag == "a"]
