// Start-up, the bundle's entry point: must run while the script is executing so document.currentScript
// is still this script.
import { makeApi } from "./api.js";
import { fillCounts } from "./counts.js";
import { mountCounters } from "./counters.js";
import { makeLocale } from "./i18n.js";
import { mountThread } from "./thread.js";

const SCRIPT_SRC = document.currentScript?.src;
const API_ORIGIN = SCRIPT_SRC ? new URL(SCRIPT_SRC).origin : location.origin;

const MOUNTED = Symbol.for("engagement.mounted");

function environmentFor(container) {
  const { site, thread, title, url } = container.dataset;
  return {
    ...makeLocale(container, API_ORIGIN),
    origin: API_ORIGIN,
    site,
    call: makeApi(API_ORIGIN, site),
    thread: thread || location.pathname,
    title: title || document.title,
    url: url || document.querySelector("link[rel=canonical]")?.href || location.href.split("#")[0],
  };
}

// The first API call goes out at once, beside the reader's language file; the widget draws when both are
// here. A thread the server rendered into the page needs no first call.
const firstThreadPage = (container, env) =>
  !container.querySelector(":scope > section.w[data-etag]") &&
  env.call("GET", "/comments", { query: { thread: env.thread, sort: "oldest", limit: container.dataset.limit } });
const firstCounters = (container, env) =>
  env.call("GET", "/engagement", { query: { target: container.dataset.target || "site" }, asReader: true });

function boot() {
  const mount = (selector, start, firstRequest) => {
    for (const container of document.querySelectorAll(selector)) {
      // A page may include the script twice; a container is only mounted once.
      if (!container.dataset.site || container.shadowRoot || container[MOUNTED]) continue;
      container[MOUNTED] = true;
      const env = environmentFor(container);
      env.first = firstRequest(container, env) || null;
      env.first?.catch(() => {}); // the mount reports it; not an unhandled rejection meanwhile
      env.ready.then(() => start(container, env));
    }
  };
  mount("#engagement-comments, [data-engagement=comments]", mountThread, firstThreadPage);
  mount("[data-engagement=counters]", mountCounters, firstCounters);
  fillCounts(API_ORIGIN);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
