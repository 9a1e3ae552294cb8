"""The demo article, taken from a real news page (shared/seed-article.txt): its text without the page's
ads, widgets and broken "0 Fans" counters, which the service replaces."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

SOURCE = Path(__file__).with_name("seed_article.txt")
THREAD_KEY = "2025/05/xi-putin-moscow"
# Lines of the original page that are page furniture, not the article.
_FURNITURE = ("- Advertisement -", "Related Articles", "LEAVE A REPLY", "Please enter your", "Stay Connected")


@dataclass(frozen=True)
class Article:
    title: str
    dateline: str
    paragraphs: tuple[str, ...]
    thread_key: str = THREAD_KEY


@cache
def demo_article() -> Article:
    lines = [line.strip() for line in SOURCE.read_text(encoding="utf-8").splitlines()]
    # The page starts with weather, city and date, then the headline.
    dateline = lines[2]
    title = lines[4]
    paragraphs = []
    for line in lines[5:]:
        if line.startswith("Related Articles"):
            break
        if line and not line.startswith(_FURNITURE):
            paragraphs.append(line)
    return Article(title=title, dateline=dateline, paragraphs=tuple(paragraphs))


MORE_ARTICLES = (
    ("2025/05/victory-day-parade", "Victory Day parade: leaders gather in Red Square"),
    ("2025/05/ceasefire-proposal", "Kyiv answers Moscow's three-day ceasefire proposal"),
    ("2025/05/brics-summit", "What the Brazil and Serbia visits mean for BRICS"),
)
