// Live updates: while the thread is on screen, its newest page is revalidated every
// settings.live_interval_seconds (30 by default; 0 turns it off) - a 304 when nothing changed. What is new
// waits behind a floating "N new comments" button that takes no room in the page, so nothing the reader is
// reading moves; the heading's count and the page's count links for this thread follow at once. Polling
// pauses while the tab is hidden and backs off after errors (doubling, up to ten minutes).
import { button } from "./dom.js";

const MAX_BACKOFF_MS = 6e5;

export function startLive(env, { limit, known, isShown, onCount, onShow }) {
  const { t, call } = env;
  let etag = known;
  let waiting = [];
  let timer = null;
  let failures = 0;
  const fresh = button("", () => {
    const arrived = waiting;
    waiting = [];
    fresh.hidden = true;
    onShow(arrived);
  }, { class: "fresh", hidden: true });

  const seconds = () => env.settings.live_interval_seconds ?? 30;
  const schedule = (delay) => {
    clearTimeout(timer);
    timer = null;
    if (seconds() > 0 && !document.hidden) timer = setTimeout(poll, delay ?? seconds() * 1e3);
  };

  async function poll() {
    try {
      const page = await call("GET", "/comments", {
        query: { thread: env.thread, sort: "newest", limit },
        revalidate: true,
      });
      failures = 0;
      if (page.etag !== etag) {
        etag = page.etag;
        arrived(page);
      }
      schedule();
    } catch {
      failures += 1;
      schedule(Math.min(seconds() * 1e3 * 2 ** failures, MAX_BACKOFF_MS));
    }
  }

  // Comments in the newest page that are not shown (top-level ones, and replies to shown comments),
  // newest first as the page lists them; the rest only change the count.
  function arrived(page) {
    onCount(page.thread.comment_count);
    const queued = new Set(waiting.map((comment) => comment.id));
    const found = [];
    const visit = (comment) => {
      const reply = comment.parent_id !== null;
      if (comment.status === "approved" && !isShown(comment.id) && !queued.has(comment.id)) {
        if (!reply || isShown(comment.parent_id) || found.some((c) => c.id === comment.parent_id)) found.push(comment);
      }
      for (const child of comment.replies || []) visit(child);
    };
    for (const comment of page.comments) visit(comment);
    if (!found.length) return;
    waiting = [...waiting, ...found];
    fresh.textContent = t("newComments", { n: waiting.length });
    fresh.hidden = false;
    env.say(t("newComments", { n: waiting.length }));
  }

  document.addEventListener("visibilitychange", () => schedule(document.hidden ? undefined : 0));
  schedule();
  return fresh;
}
