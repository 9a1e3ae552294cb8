"""The conversations the benchmark seeds both services with, which tests reuse. Standard library only:
Isso's seeder imports it too, from Isso's own virtualenv."""

from __future__ import annotations

import random
from dataclasses import dataclass

THREAD_200 = "2025/05/xi-putin-moscow"  # the demo article's thread, so the demo page shows it
THREAD_10K = "bench/long-running-live-blog"
POST_THREAD = "bench/post-here"
# The reader's-browser comparison (bench/browser_compare.py): 200 comments, 50 top-level and 150 replies,
# as the outside measurement of issue 20 had it.
BROWSER_THREAD = "bench/browser-200"
COUNT_THREADS = 1000
COUNTS_PER_REQUEST = 50

_NAMES = ("Marta K.", "David Osei", "Lin Wei", "Jonas", "Priya N.", "Ana Souza", "Tomasz", "Grace", "Yusuf")
_SENTENCES = (
    "The timing with the ceasefire offer is hardly a coincidence.",
    "Three days is a **photo-op**, not a truce.",
    "Does anyone know which agreements are expected to be signed?",
    "Energy and payments, according to most reports so far.",
    "I read the full statement and it says much less than the headline suggests.",
    "Worth comparing with what was said at the last summit: see https://example.org/summit-2024",
    "This is the *third* time this year the same promise has been made.",
    "Good reporting. Would be useful to have a map of the routes mentioned.",
    "Markets barely moved, which tells you how seriously traders take it.",
    "> the talks were constructive\n\nThey always say that.",
)


@dataclass(frozen=True)
class SeedComment:
    author: str
    email: str
    body: str
    parent: int | None  # index of the comment replied to, in the same list


def thread_key(number: int) -> str:
    """One of the ``COUNT_THREADS`` small threads an article list asks counts for."""
    return f"bench/article-{number:04d}"


def conversation(size: int, *, reply_share: float = 0.25, seed: int = 1) -> list[SeedComment]:
    """``size`` comments, about ``reply_share`` of them replies to an earlier top-level comment."""
    rng = random.Random(seed)
    comments: list[SeedComment] = []
    top_level: list[int] = []
    for index in range(size):
        parent = rng.choice(top_level[-20:]) if top_level and rng.random() < reply_share else None
        if parent is None:
            top_level.append(index)
        name = rng.choice(_NAMES)
        body = " ".join(rng.sample(_SENTENCES, rng.randint(1, 3)))
        comments.append(
            SeedComment(
                author=name,
                email=f"reader{index}.{seed}@example.org",
                body=body,
                parent=parent,
            )
        )
    return comments


def browser_conversation() -> list[SeedComment]:
    """The 200 comments of ``BROWSER_THREAD``: 50 top-level, 150 replies (seed 15 gives exactly that)."""
    return conversation(200, reply_share=0.75, seed=15)
