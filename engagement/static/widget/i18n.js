// Translation and formatting. The strings live in messages.json (keys are English identifiers; a
// plural message maps Intl.PluralRules categories to text, "other" being the fallback). The build
// (build-widget.js) builds English in and writes every other language to a file of its own, named by
// its content's hash: a reader's language is fetched once, in parallel with the first API call, and
// cached for good; a language that fails to load leaves the widget in English.
import { ENGLISH, LANGUAGE_FILES, MESSAGE_KEYS } from "./messages.json";

const TIME_UNITS = [
  ["year", 31536e3],
  ["month", 2592e3],
  ["week", 604800],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];
const RIGHT_TO_LEFT = new Set(["ar", "fa", "he", "ur"]);
const loading = {};

function loadTexts(origin, language) {
  loading[language] ||= fetch(`${origin}/widget/lang/${LANGUAGE_FILES[language]}`, { credentials: "omit" })
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null);
  return loading[language];
}

// Language from data-lang, else <html lang>, else English; the full tag (pt-BR) still drives Intl formats.
// The locale works at once (in English); `ready` resolves when it speaks the reader's language.
export function makeLocale(el, origin) {
  let tag = (el.dataset.lang || document.documentElement.lang || "en").trim();
  try {
    tag = Intl.getCanonicalLocales(tag)[0];
  } catch {
    tag = "en";
  }
  let language = tag.split("-")[0].toLowerCase();
  if (language !== "en" && !LANGUAGE_FILES[language]) (language = "en"), (tag = "en");
  let texts = ENGLISH;
  // Each formatter is made when first used (making one loads its locale data): a page of counters never
  // makes the relative-time one, a thread with no count above 10,000 never the compact one.
  const once = (make) => {
    let made;
    return () => (made ||= make());
  };
  const plural = once(() => new Intl.PluralRules(tag));
  const full = once(() => new Intl.NumberFormat(tag));
  const compact = once(() => new Intl.NumberFormat(tag, { notation: "compact", maximumFractionDigits: 1 }));
  const relative = once(() => new Intl.RelativeTimeFormat(tag, { numeric: "auto" }));
  // {n} is a number formatted for the widget's language: in full, compact above 10,000.
  const num = (n) => (Math.abs(n) > 1e4 ? compact() : full()).format(n);
  return {
    // Makes the formatters while the first page is on the way, each in a task of its own: the first one
    // loads the locale's number data (some 40 ms), which would otherwise land in the task that draws.
    warm: () => [full, plural, relative].forEach((make) => setTimeout(make)),
    lang: language,
    dir: RIGHT_TO_LEFT.has(language) ? "rtl" : "ltr",
    ready:
      language === "en"
        ? Promise.resolve()
        : loadTexts(origin, language).then((loaded) => {
            if (Array.isArray(loaded) && loaded.length === MESSAGE_KEYS.length) texts = loaded;
          }),
    num,
    t(key, vars = {}) {
      let text = texts[MESSAGE_KEYS.indexOf(key)];
      if (typeof text === "object") text = text[plural().select(vars.n)] || text.other;
      return text.replace(/\{(\w+)\}/g, (_, name) => (name === "n" ? num(vars.n) : vars[name]));
    },
    ago(iso) {
      const seconds = (Date.parse(iso) - Date.now()) / 1e3;
      const [unit, size] = TIME_UNITS.find(([, size]) => Math.abs(seconds) >= size) || TIME_UNITS[6];
      return relative().format(Math.round(seconds / size), unit);
    },
  };
}
