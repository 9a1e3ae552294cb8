"""The reader's browser, side by side with Isso (issue 20, section 4).

One run, one machine: a host page on an origin of its own (a small HTTP server on another port, as an
article on the newsroom's site would be) embeds the same 200-comment thread (50 top-level comments, 150
replies) three ways, each loaded in turn in Debian's headless Chromium with a fresh browser context (empty
cache and storage), ``loads`` times, median reported:

- ``isso``: Isso 0.14's ``embed.min.js`` from Isso's own server;
- ``ours``: our ``widget.js`` from ours, which asks the API for the first page;
- ``ours_ssr``: the page carries the server-rendered fragment (``comments.html``, fetched when the host
  page is asked for, as nginx SSI or a template include would), and the widget adopts it.

For each load: when the first comment is on screen (the page's own clock, 0 at navigation start; an init
script observes the document and every shadow root, and takes the end of the first frame painted after the
comment came), the bytes on the wire (Chromium's encoded
lengths, headers included) and the requests, and the main thread's long tasks (``longtask`` entries: the
longest, and the total blocking time beyond 50 ms each) until the network has been idle for half a second.

    .venv/bin/python -m bench.browser_compare [--loads 5]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench import browser, isso
from devtools import servers
from devtools.conversations import BROWSER_THREAD, browser_conversation

WAYS = ("isso", "ours", "ours_ssr")
# Isso's comments carry their id (isso-<n>); its comment form holds an .isso-comment preview without one.
FIRST_COMMENT = "li.c, .isso-comment[id^=isso-]"
DONE = "engagement-bench:first-comment"
# Stands for an article's text: the comments come after it, as on a news page.
_ARTICLE = "<h1>Article</h1>" + "<p>Paragraph of the article, long enough to wrap on a phone.</p>" * 12

_OBSERVE = """
(() => {
  window.__long = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__long.push([entry.startTime, entry.duration]);
  }).observe({ type: "longtask", buffered: true });
  // On screen: the first frame after the comment is in the document has been painted (a task after its
  // animation frame callbacks runs once that frame is done).
  const seen = (root) => () => {
    if (window.__inserted === undefined && root.querySelector("SELECTOR")) {
      window.__inserted = performance.now();
      requestAnimationFrame(() =>
        setTimeout(() => {
          window.__firstComment = performance.now();
          console.debug(DONE); // the bench waits for this: no script of its own runs in the page meanwhile
        }),
      );
    }
  };
  new MutationObserver(seen(document)).observe(document, { childList: true, subtree: true });
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    new MutationObserver(seen(root)).observe(root, { childList: true, subtree: true });
    return root;
  };
})();
""".replace("SELECTOR", FIRST_COMMENT).replace("DONE", f'"{DONE}"')

_SHOWN = """
(() => {
  const shadows = [...document.querySelectorAll("*")].flatMap((e) => (e.shadowRoot ? [e.shadowRoot] : []));
  const roots = [document, ...shadows];
  return roots.reduce((n, root) => n + root.querySelectorAll("SELECTOR").length, 0);
})()
""".replace("SELECTOR", FIRST_COMMENT)


@dataclass(frozen=True)
class Load:
    first_comment_ms: float
    bytes: int
    requests: int
    longest_task_ms: float
    blocking_ms: float
    comments_shown: int


@dataclass(frozen=True)
class Way:
    first_comment_ms: float  # medians of the loads
    bytes: int
    requests: int
    longest_task_ms: float
    blocking_ms: float
    comments_shown: int
    loads: list[Load]


def host_pages(ours: str, theirs: str, site: str) -> dict[str, Callable[[], bytes]]:
    """The three host pages by path; each is built when asked for (the fragment fetched then)."""
    thread = f'data-site="{site}" data-thread="{BROWSER_THREAD}"'
    widget = f'<script src="{ours}/widget.js" async></script>'

    def page(body: str) -> bytes:
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width"><title>Article</title></head>'
            f"<body><main>{_ARTICLE}{body}</main></body></html>"
        ).encode()

    def ssr() -> bytes:
        answer = httpx.get(f"{ours}/api/v1/sites/{site}/comments.html", params={"thread": BROWSER_THREAD})
        fragment = answer.raise_for_status().text
        return page(fragment + widget)  # the fragment is the widget's container itself

    return {
        "/isso": lambda: page(
            f'<script data-isso="{theirs}/" src="{theirs}/js/embed.min.js" async></script>'
            f'<section id="isso-thread" data-isso-id="/{BROWSER_THREAD}"></section>'
        ),
        "/ours": lambda: page(f'<div id="engagement-comments" {thread}></div>{widget}'),
        "/ours_ssr": ssr,
    }


@contextmanager
def host_server(pages: dict[str, Callable[[], bytes]]) -> Iterator[str]:
    """Serves ``pages`` on 127.0.0.1 on a free port; yields its origin."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            build = pages.get(self.path)
            body = build() if build else b"not found"
            self.send_response(200 if build else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if "gzip" in self.headers.get("Accept-Encoding", ""):  # as the newsroom's server would
                body = gzip.compress(body, 6)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def seed_ours(database_url: str, page_origin: str) -> str:
    """A database with the demo site (the host page's origin allowed) and the 200-comment thread."""
    from flask_migrate import upgrade

    from devtools.seeding import post_conversation
    from engagement import create_app
    from engagement.demo import DEMO_SLUG, seed_demo
    from engagement.extensions import db
    from engagement.sites.service import get_site

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": servers.BENCH_SECRET})
    with app.app_context():
        upgrade()
        seed_demo()
        site = get_site(DEMO_SLUG)
        site.origins = [*site.origins, page_origin]
        post_conversation(site, BROWSER_THREAD, browser_conversation())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return DEMO_SLUG


def measure(pages_origin: str, *, loads: int, ways: tuple[str, ...] = WAYS) -> dict[str, Way]:
    """``loads`` cold loads of each way, interleaved (isso, ours, ours_ssr, isso, ...)."""
    from playwright.sync_api import sync_playwright

    executable = browser.chromium()
    if executable is None:
        raise RuntimeError("Chromium is not installed (Debian: apt-get install -y chromium)")
    found: dict[str, list[Load]] = {way: [] for way in ways}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=browser.CHROMIUM_ARGS)
        try:
            for _ in range(loads + 1):  # the first round warms the servers and the disk; not counted
                for way in ways:
                    found[way].append(_load(chromium, f"{pages_origin}/{way}"))
        finally:
            chromium.close()
    return {way: _median(runs[1:]) for way, runs in found.items()}


def _load(chromium: Any, url: str) -> Load:
    context = chromium.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        received: list[int] = []
        cdp.on("Network.loadingFinished", lambda event: received.append(event["encodedDataLength"]))
        page.add_init_script(_OBSERVE)
        with page.expect_console_message(lambda message: message.text == DONE, timeout=20_000):
            page.goto(url)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)  # long tasks are reported a moment after they end
        longest = [duration for _, duration in page.evaluate("window.__long")]
        return Load(
            first_comment_ms=round(page.evaluate("window.__firstComment"), 1),
            bytes=sum(received),
            requests=len(received),
            longest_task_ms=round(max(longest, default=0), 1),
            blocking_ms=round(sum(max(0, duration - 50) for duration in longest), 1),
            comments_shown=page.evaluate(_SHOWN),
        )
    finally:
        context.close()


def _median(runs: list[Load]) -> Way:
    def middle(name: str) -> Any:
        return statistics.median(getattr(run, name) for run in runs)

    return Way(
        first_comment_ms=middle("first_comment_ms"),
        bytes=int(middle("bytes")),
        requests=int(middle("requests")),
        longest_task_ms=middle("longest_task_ms"),
        blocking_ms=middle("blocking_ms"),
        comments_shown=int(middle("comments_shown")),
        loads=runs,
    )


def run(
    workdir: Path, *, loads: int = 5, ways: tuple[str, ...] = WAYS, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Seeds both services, serves the host pages, measures; the answer goes into the bench's results."""
    workdir.mkdir(parents=True, exist_ok=True)
    if "isso" in ways:
        isso.ensure_installed()
    ours_pages: dict[str, Callable[[], bytes]] = {}
    with host_server(ours_pages) as pages_origin:
        database = f"sqlite:///{workdir / 'browser.db'}"
        site = seed_ours(database, pages_origin)
        ours = servers.start_service(
            "engagement-browser", database_url=database, log_dir=workdir, RATELIMIT_ENABLED="false"
        )
        port = servers.free_port()
        theirs = _start_isso(workdir, port, pages_origin) if "isso" in ways else None
        try:
            ours_pages.update(host_pages(ours.url, f"http://127.0.0.1:{port}", site))
            _warm(ours.url, site, f"http://127.0.0.1:{port}" if theirs else None)
            measured = measure(pages_origin, loads=loads, ways=ways)
        finally:
            ours.stop()
            if theirs is not None:
                theirs.stop()
    for way, result in measured.items():
        say(
            f"   {way:9} first comment {result.first_comment_ms:6.0f} ms, {result.bytes:7,} bytes in "
            f"{result.requests:3} requests, longest task {result.longest_task_ms:4.0f} ms, "
            f"blocking {result.blocking_ms:4.0f} ms, {result.comments_shown} comments shown"
        )
    return {way: asdict(result) for way, result in measured.items()}


def _warm(ours: str, site: str, theirs: str | None) -> None:
    """Every worker of both servers has answered the thread before the clock starts (a first answer
    fills our page cache, and both processes' imports and connections are warm)."""
    with httpx.Client(headers={"Accept-Encoding": "gzip"}, timeout=30) as client:
        for _ in range(12):
            client.get(
                f"{ours}/api/v1/sites/{site}/comments", params={"thread": BROWSER_THREAD, "sort": "oldest"}
            )
            client.get(f"{ours}/api/v1/sites/{site}/comments.html", params={"thread": BROWSER_THREAD})
            if theirs:
                client.get(f"{theirs}/config")
                client.get(f"{theirs}/", params={"uri": f"/{BROWSER_THREAD}", "nested_limit": 5})


def _start_isso(workdir: Path, port: int, pages_origin: str) -> servers.Server:
    directory = workdir / "isso-browser"
    directory.mkdir(exist_ok=True)
    settings = isso.settings_file(directory, port, pages=[pages_origin])
    isso.seed(settings)
    return isso.start(settings, port=port, workers=2, log_dir=workdir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--ways", default=",".join(WAYS), help=f"comma-separated, of {', '.join(WAYS)}")
    args = parser.parse_args()
    ways = tuple(way for way in args.ways.split(",") if way)
    if not set(ways) <= set(WAYS):
        parser.error(f"--ways: one or more of {', '.join(WAYS)}")
    with tempfile.TemporaryDirectory(prefix="engagement-browser-") as scratch:
        run(Path(scratch), loads=args.loads, ways=ways)


if __name__ == "__main__":
    main()
