// Start-up, the bundle's entry point: must run while the script is executing so document.currentScript
// is still this script.
import { makeApi } from "./api.js";
import { fillCounts } from "./counts.js";
import { mountCounters, readCounts, readReaderState } from "./counters.js";
import { makeLocale } from "./i18n.js";
import { forgetSession, signIn } from "./sso.js";
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
const firstCounters = (container, env) => {
  const target = container.dataset.target || "site";
  env.firstReader = readReaderState(env, target);
  env.firstReader.catch(() => {}); // the mount reports it
  return readCounts(env, target);
};

// The site's own sign-in (docs/sso.md): data-sso-token on a comments container, or the page calls
// Engagement.login(token) when its reader signs in and Engagement.logout() when they sign out. Each resolves
// once the session is in place (login: to the reader as the site's token names them; it rejects with the
// API's error). `site` is the first container's unless the page has several sites and says which.
const sites = [];
const siteOf = (site) => site || sites[0];
window.Engagement = Object.assign(window.Engagement || {}, {
  login: (token, site) => signIn(makeApi(API_ORIGIN, siteOf(site)), siteOf(site), String(token)),
  logout: async (site) => forgetSession(siteOf(site)),
});

function signInFromPage(container, env) {
  const token = container.dataset.ssoToken;
  if (token === undefined) return;
  if (!token.trim()) forgetSession(env.site); // the page says its reader is signed out
  else signIn(env.call, env.site, token.trim()).catch(() => env.ready.then(() => setTimeout(() => env.say?.(env.t("signInAgain")))));
}

function boot() {
  const mount = (selector, start, firstRequest) => {
    for (const container of document.querySelectorAll(selector)) {
      // A page may include the script twice; a container is only mounted once.
      if (!container.dataset.site || container.shadowRoot || container[MOUNTED]) continue;
      container[MOUNTED] = true;
      const env = environmentFor(container);
      if (!sites.includes(env.site)) sites.push(env.site);
      if (start === mountThread) signInFromPage(container, env);
      env.first = firstRequest(container, env) || null;
      env.first?.catch(() => {}); // the mount reports it; not an unhandled rejection meanwhile
      env.warm();
      // In a task of its own, not the one that evaluated this script: a thread the server rendered is on
      // screen already, and taking it over is work enough for one task.
      env.ready.then(() => setTimeout(() => start(container, env)));
    }
  };
  mount("#engagement-comments, [data-engagement=comments]", mountThread, firstThreadPage);
  mount("[data-engagement=counters]", mountCounters, firstCounters);
  fillCounts(API_ORIGIN);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
