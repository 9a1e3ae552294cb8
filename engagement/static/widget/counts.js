// The comment counts behind a[data-engagement=count] links, anywhere on the page ("N Comments").
import { makeApi } from "./api.js";
import { makeLocale } from "./i18n.js";

// One /counts request per site and 100 threads fills every count link with "N Comments": a GET (which a
// cache may keep) while its URL stays short, else the same question as a POST (long keys: a server stops
// reading a request line at about 4 KB).
const LONGEST_URL = 2000;

export function fillCounts(origin) {
  const threadsBySite = {};
  for (const link of document.querySelectorAll("a[data-engagement=count][data-site]")) {
    const thread = link.dataset.thread || new URL(link.href, location.href).pathname;
    const links = (threadsBySite[link.dataset.site] ||= new Map());
    links.set(thread, [...(links.get(thread) || []), link]);
  }
  for (const [site, links] of Object.entries(threadsBySite)) {
    const threads = [...links.keys()];
    for (let i = 0; i < threads.length; i += 100) {
      const batch = threads.slice(i, i + 100);
      const api = makeApi(origin, site);
      const length = batch.reduce((sum, key) => sum + encodeURIComponent(key).length + 8, origin.length + 60);
      const asked = length <= LONGEST_URL
        ? api("GET", "/counts", { query: { thread: batch } })
        : api("POST", "/counts", { body: { thread: batch } });
      asked.then(({ counts }) => {
        for (const thread of batch) {
          if (!Object.hasOwn(counts, thread)) continue;
          for (const link of links.get(thread)) {
            const locale = makeLocale(link, origin);
            locale.ready.then(() => (link.textContent = locale.t("comments", { n: counts[thread] })));
          }
        }
      }, () => {});
    }
  }
}
