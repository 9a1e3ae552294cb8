"""Untrusted XML (WXR, Disqus), parsed safely and one element at a time.

``defusedxml`` refuses entity declarations (the "billion laughs" expansion) and external entities or DTDs
to fetch, before they can cost memory or reach the network or the disk. Elements at the depth a reader asks
for are handed over whole and freed right after, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import iterparse

from engagement.errors import BadRequest


class UnsafeXml(BadRequest):
    """The file declares entities or refers to external ones: refused before anything is written."""


class MalformedFile(BadRequest):
    """The file cannot be read as the format it claims to be."""


class _CountingReader:
    """Reports how many bytes the parser has read, for the progress bar."""

    def __init__(self, raw: BinaryIO, progress: Callable[[int], None]) -> None:
        self._raw = raw
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._progress(len(chunk))
        return chunk


def elements_down_to(
    path: Path, depth: int, *, progress: Callable[[int], None]
) -> Iterator[tuple[int, Element, Element | None]]:
    """(depth, element, parent) for each element at most ``depth`` levels below the root (1: the root's
    children), as soon as it is complete. It is freed after use, so an element's children that were
    handed over before it are gone by the time it is: a WXR ``<item>`` arrives empty, after its parts,
    and a post with 20,000 comments never sits in memory whole."""
    stack: list[Element] = []
    with path.open("rb") as raw:
        events = iterparse(_CountingReader(raw, progress), events=("start", "end"))
        try:
            for event, element in events:
                if event == "start":
                    stack.append(element)
                    continue
                stack.pop()
                if len(stack) <= depth:
                    parent = stack[-1] if stack else None
                    yield len(stack), element, parent
                    element.clear()
                    if parent is not None:
                        parent.remove(element)
        except EntitiesForbidden:
            raise UnsafeXml(
                "unsafe_xml", "Refused: the file declares XML entities (a possible entity expansion attack)."
            ) from None
        except ExternalReferenceForbidden:
            raise UnsafeXml("unsafe_xml", "Refused: the file refers to external XML entities.") from None
        except DTDForbidden:
            raise UnsafeXml("unsafe_xml", "Refused: the file declares a document type (DTD).") from None
        except ParseError as error:
            raise MalformedFile("malformed_xml", f"The file is not well-formed XML: {error}.") from None


def local_name(element: Element) -> str:
    """``{http://wordpress.org/export/1.2/}comment`` -> ``comment``: formats change namespace versions."""
    return element.tag.rpartition("}")[2]


def child_texts(element: Element) -> dict[str, str]:
    """Text of each direct child by local name (the first one wins), stripped."""
    texts: dict[str, str] = {}
    for child in element:
        texts.setdefault(local_name(child), (child.text or "").strip())
    return texts


def children_named(element: Element, name: str) -> list[Element]:
    return [child for child in element if local_name(child) == name]


def child_named(element: Element, name: str) -> Element | None:
    return next((child for child in element if local_name(child) == name), None)


def attribute(element: Element | None, name: str) -> str | None:
    """An attribute by local name (``dsq:id`` -> ``id``), whatever its namespace."""
    if element is None:
        return None
    for key, value in element.attrib.items():
        if key.rpartition("}")[2] == name:
            return value.strip() or None
    return None


def parse_utc(value: str) -> datetime | None:
    """An ISO 8601 time (``T`` or a space between date and time); no offset means UTC. None when it
    cannot be read (WordPress writes ``0000-00-00 00:00:00`` for "never")."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"true", "1", "yes"}
