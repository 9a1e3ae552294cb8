"""CPU time of rendering the most expensive comment bodies we know, each as long as a site allows.

    .venv/bin/python -m bench.rendering [--runs 5]

Every body is up to 60,000 characters long (the largest ``max_body_length``). Reader bodies go through
``render_comment`` (what a post or an edit pays), imported ones through ``sanitize_html``; each is timed
``runs`` times in this process and the median CPU time is compared with the goal of issue 13, no body over
100 ms. ``html_to_text`` of the result (what a mail about the comment pays) is shown beside it. The
families: the security probe's three, then markdown-it's, bleach's and html5ever's expensive cases,
then bodies that fill each budget of engagement/rendering.py just short of its limit. A report, not a
test: tests/test_rendering_bounds.py counts the same work deterministically.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bench.report import RENDERING_GOAL_MS, rendering_goal
from devtools.documentation import project_documentation
from engagement.rendering import (
    IMPORTED_MAX_TAGS,
    LINKIFY_BUDGET,
    MARKDOWN_MARKUP_BUDGET,
    MARKDOWN_MAX_LINES,
    html_to_text,
    render_comment,
    sanitize_html,
)

LENGTH = 60_000
PROSE = "The council met on Tuesday to discuss the budget, *again*, and agreed on nothing at all. "


def fill(unit: str, length: int = LENGTH) -> str:
    """``unit`` repeated to exactly ``length`` characters."""
    return (unit * (length // len(unit) + 1))[:length]


def padded(head: str) -> str:
    """``head``, then prose up to the full length."""
    return head + "\n\n" + fill(PROSE, LENGTH - len(head) - 2)


def _filled_with_ampersands(head: str) -> str:
    """``head``, then ampersands up to the full length: escaped, they make the most HTML for nh3."""
    return head + "\n\n" + "&" * (LENGTH - len(head) - 2)


def _repeated_up_to(unit: str, budget: int, cost: int) -> str:
    """As many ``unit`` as fit in ``budget`` when each costs ``cost``."""
    return unit * ((budget - 1) // cost)


def markdown_bodies() -> dict[str, str]:
    half = LENGTH // 2
    return {
        # The security probe's (issue 13, finding 11).
        "probe: '[' x 60,000": "[" * LENGTH,
        "probe: '![' x 30,000": "![" * half,
        "probe: '*_' x 30,000": "*_" * half,
        # Brackets and links.
        "link openers '[a'": fill("[a"),
        "link closers 'a]'": fill("a]"),
        "nested brackets '[[[a]]]'": "[" * half + "]" * half,
        "unclosed destinations '[a](b'": fill("[a](b"),
        "'[ (](' repeated": fill("[ (]("),
        "links '[a](http://x) '": fill("[a](http://x) "),
        "reference uses '[a] '": fill("[a] ", LENGTH - 20) + "\n\n[a]: http://x\n",
        "reference amplification": "[a]: http://x/" + "y" * 30_000 + "\n\n" + fill("[a]", LENGTH - 30_016),
        # Emphasis delimiters.
        "'*' x 60,000": "*" * LENGTH,
        "emphasis openers '_a '": fill("_a "),
        "emphasis closers 'a* '": fill("a* "),
        "nested strong/emph": "*a **a " * 4285 + "b" + " a** a*" * 4285,
        "'*' x 30,000, a, '*' x 30,000": "*" * half + "a" + "*" * (half - 1),
        # Code spans, angle brackets, entities, escapes.
        "backticks '`' x 60,000": "`" * LENGTH,
        "unmatched code spans '` a'": fill("` a"),
        "'<' x 60,000": "<" * LENGTH,
        "unclosed autolinks '<http://'": fill("<http://"),
        "entities '&amp;'": fill("&amp;"),
        "'&' x 60,000": "&" * LENGTH,
        "backslashes": "\\" * LENGTH,
        # Blocks and lines.
        "nested blockquotes '>' x 60,000": ">" * LENGTH,
        "quoted lines '> a\\n'": fill("> a\n"),
        "list items '- a\\n'": fill("- a\n"),
        "nested lists": "".join("  " * (n % 12) + "- a\n" for n in range(8_000))[:LENGTH],
        "lines 'a\\n'": fill("a\n"),
        "paragraphs 'a\\n\\n'": fill("a\n\n"),
        "line breaks just under the limit": padded("\n".join("- a" for _ in range(MARKDOWN_MAX_LINES - 20))),
        # Bare URLs (bleach's linkifier).
        "bare URLs 'http://a.io '": fill("http://a.io "),
        "bare URLs 'www.a.io '": fill("www.a.io "),
        "one URL and 60,000 quotes": "http://a.io " + '"' * (LENGTH - 12),
        "URLs glued by commas": fill("www.a.io,"),
        "URLs full of entities": fill('http://a.io/"""""&&&&& '),
        # Long lines.
        "one 60,000-letter word": "a" * LENGTH,
        "one 60,000-character URL": "http://" + "a" * (LENGTH - 7),
        # Mixes.
        "mix of all markup": fill("*_[![`<>&\\ http://a.io www.a.io "),
        "mix 2 '[*_`<'": fill("[*_`<"),
        # Each budget filled just short of its limit, the rest prose.
        "markup budget: '[a'": padded(_repeated_up_to("[a", MARKDOWN_MARKUP_BUDGET, 2)),
        "markup budget: 'a*'": padded(_repeated_up_to("a*", MARKDOWN_MARKUP_BUDGET, 1)),
        "markup budget: '[a](b) '": padded(_repeated_up_to("[a](b) ", MARKDOWN_MARKUP_BUDGET, 3)),
        "markup budget: '![a'": padded(_repeated_up_to("![a", MARKDOWN_MARKUP_BUDGET, 3)),
        "markup budget: '_a '": padded(_repeated_up_to("_a ", MARKDOWN_MARKUP_BUDGET, 1)),
        "linkify budget: 'http://a.io '": padded(_repeated_up_to("http://a.io ", LINKIFY_BUDGET, 2)),
        # The markup and linkify budgets full, then ampersands.
        "every budget at once": _filled_with_ampersands(
            _repeated_up_to("[a", MARKDOWN_MARKUP_BUDGET, 2)
            + "\n\n"
            + _repeated_up_to("http://a.io ", LINKIFY_BUDGET, 2)
        ),
        # Ordinary comments, for scale.
        "ordinary prose": fill(PROSE),
        "README.md and docs/ (dense Markdown)": project_documentation()[:LENGTH],
    }


def imported_bodies() -> dict[str, str]:
    deepest = IMPORTED_MAX_TAGS // 2  # pairs of start tags
    return {
        "imported: nested <div>": fill("<div>"),
        "imported: nested <ul><li>": fill("<ul><li>"),
        "imported: nested <blockquote>": fill("<blockquote>"),
        "imported: nested <pre>": fill("<pre>\n"),
        "imported: '<' x 60,000": "<" * LENGTH,
        "imported: links": fill('<a href="http://x">x</a>'),
        "imported: bare URLs": fill("<p>http://a.io "),
        "imported: <ul><li> at the tag limit": padded("<ul><li>" * deepest),
        "imported: <blockquote> at the tag limit": padded("<blockquote>" * IMPORTED_MAX_TAGS),
        "imported: formatting reconstruction": "<b><i><u><s><em><strong><code><font>"
        + fill("<p>x", LENGTH - 38),
    }


@dataclass(frozen=True)
class Timing:
    body: str
    function: str
    render_ms: float
    to_text_ms: float
    output_chars: int


def _median_cpu_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return round(statistics.median(times) * 1000, 1)


def measure(runs: int = 5, say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Time every body; one row per body, printed as it is measured."""
    render_comment("warm *up* http://example.org")  # first calls compile patterns and import bleach's parts
    say(f"{'body':<40} {'function':<15} {'CPU ms':>7} {'to text':>8} {'HTML':>10}")
    rows = []
    for function, bodies in ((render_comment, markdown_bodies()), (sanitize_html, imported_bodies())):
        for name, body in bodies.items():
            assert len(body) <= LENGTH, (name, len(body))
            html = function(body)
            timing = Timing(
                body=name,
                function=function.__name__,
                render_ms=_median_cpu_ms(lambda f=function, b=body: f(b), runs),
                to_text_ms=_median_cpu_ms(lambda h=html: html_to_text(h), runs),
                output_chars=len(html),
            )
            status = "PASS" if timing.render_ms <= RENDERING_GOAL_MS else "MISS"
            say(
                f"{name:<40} {timing.function:<15} {timing.render_ms:>7.1f} {timing.to_text_ms:>8.1f}"
                f" {timing.output_chars:>10,}  {status}"
            )
            rows.append(asdict(timing))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="renderings per body (the median is shown)")
    args = parser.parse_args()
    goal = rendering_goal(measure(args.runs))
    print(f"\n{goal.status} {goal.text}: {goal.measured}")


if __name__ == "__main__":
    main()
