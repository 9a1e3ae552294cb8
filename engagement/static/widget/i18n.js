// Translation and formatting. The strings live in messages.json (keys are English identifiers; a
// plural message maps Intl.PluralRules categories to text, "other" being the fallback); the build
// (build-widget.js) turns it into MESSAGE_KEYS and MESSAGE_TABLE (language -> texts in key order).
import { MESSAGE_KEYS, MESSAGE_TABLE } from "./messages.json";

const TIME_UNITS = [
  ["year", 31536e3],
  ["month", 2592e3],
  ["week", 604800],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

// Language from data-lang, else <html lang>, else English; the full tag (pt-BR) still drives Intl formats.
export function makeLocale(el) {
  let tag = (el.dataset.lang || document.documentElement.lang || "en").trim();
  try {
    tag = Intl.getCanonicalLocales(tag)[0];
  } catch {
    tag = "en";
  }
  const texts = MESSAGE_TABLE[tag.split("-")[0].toLowerCase()] || ((tag = "en"), MESSAGE_TABLE.en);
  const plural = new Intl.PluralRules(tag);
  const full = new Intl.NumberFormat(tag);
  const compact = new Intl.NumberFormat(tag, { notation: "compact", maximumFractionDigits: 1 });
  const relative = new Intl.RelativeTimeFormat(tag, { numeric: "auto" });
  // {n} is a number formatted for the widget's language: in full, compact above 10,000.
  const num = (n) => (Math.abs(n) > 1e4 ? compact : full).format(n);
  return {
    num,
    t(key, vars = {}) {
      let text = texts[MESSAGE_KEYS.indexOf(key)];
      if (typeof text === "object") text = text[plural.select(vars.n)] || text.other;
      return text.replace(/\{(\w+)\}/g, (_, name) => (name === "n" ? num(vars.n) : vars[name]));
    },
    ago(iso) {
      const seconds = (Date.parse(iso) - Date.now()) / 1e3;
      const [unit, size] = TIME_UNITS.find(([, size]) => Math.abs(seconds) >= size) || TIME_UNITS[6];
      return relative.format(Math.round(seconds / size), unit);
    },
  };
}
