"""Time to first comment: the demo article page in headless Chromium (Debian's), fresh profile each load.

The widget renders into the shadow root of ``#engagement-comments``; an init script wraps
``attachShadow`` so a MutationObserver inside that root notes the moment the first comment (``li.c``)
is attached. The clock is the page's own (``performance.now()``, 0 at navigation start), so the time
covers the HTML, the widget script, the API read of the first page and the rendering.
"""

from __future__ import annotations

import shutil
import statistics
from dataclasses import dataclass

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
COMMENT_SELECTOR = "li.c"

_OBSERVE_FIRST_COMMENT = """
(() => {
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    if (this.id === "engagement-comments") {
      const seen = () => {
        if (window.__firstComment === undefined && root.querySelector("SELECTOR")) {
          window.__firstComment = performance.now();
          window.__commentsShown = root.querySelectorAll("SELECTOR").length;
        }
      };
      new MutationObserver(seen).observe(root, { childList: true, subtree: true });
    }
    return root;
  };
})();
""".replace("SELECTOR", COMMENT_SELECTOR)


@dataclass(frozen=True)
class FirstComment:
    median_ms: float
    runs_ms: list[float]
    comments_shown: int


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("/usr/bin/chromium")


def time_to_first_comment(page_url: str, *, loads: int = 5) -> FirstComment:
    """Median over ``loads`` cold loads (new browser context: empty cache and storage)."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    if executable is None:
        raise RuntimeError("Chromium is not installed (Debian: apt-get install -y chromium)")
    runs: list[float] = []
    shown = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            for _ in range(loads):
                context = browser.new_context()
                page = context.new_page()
                page.add_init_script(_OBSERVE_FIRST_COMMENT)
                page.goto(page_url)
                page.wait_for_function("window.__firstComment !== undefined", timeout=15_000)
                runs.append(round(page.evaluate("window.__firstComment"), 1))
                shown = page.evaluate("window.__commentsShown")
                context.close()
        finally:
            browser.close()
    return FirstComment(median_ms=statistics.median(runs), runs_ms=runs, comments_shown=shown)
