// Start-up, the bundle's entry point: must run while the script is executing so document.currentScript
// is still this script.
import { makeApi } from "./api.js";
import { fillCounts } from "./counts.js";
import { mountCounters } from "./counters.js";
import { makeLocale } from "./i18n.js";
import { mountThread } from "./thread.js";

const SCRIPT_SRC = document.currentScript?.src;
const API_ORIGIN = SCRIPT_SRC ? new URL(SCRIPT_SRC).origin : location.origin;

function environmentFor(container) {
  const { site, thread, title, url } = container.dataset;
  return {
    ...makeLocale(container),
    origin: API_ORIGIN,
    site,
    call: makeApi(API_ORIGIN, site),
    thread: thread || location.pathname,
    title: title || document.title,
    url: url || document.querySelector("link[rel=canonical]")?.href || location.href.split("#")[0],
  };
}

function boot() {
  const mount = (selector, start) => {
    for (const container of document.querySelectorAll(selector)) {
      // A page may include the script twice; a container is only mounted once.
      if (container.dataset.site && !container.shadowRoot) start(container, environmentFor(container));
    }
  };
  mount("#engagement-comments, [data-engagement=comments]", mountThread);
  mount("[data-engagement=counters]", mountCounters);
  fillCounts(API_ORIGIN);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
