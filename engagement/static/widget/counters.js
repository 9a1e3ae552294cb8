// "Stay Connected": fans, followers and subscribers, with Like/Follow toggles and the Subscribe form.
import { describeError, toggleOptimistically } from "./api.js";
import { attachSection, button, h } from "./dom.js";
import { createForm } from "./form.js";
import { readStore, writeStore } from "./store.js";

// The counts are the same for every reader (one shared answer, revalidated by its ETag); the reader's own likes
// and follows are a private answer of their own, asked only of a browser that has had one on this target (or
// has not been asked yet): most page views then make one cacheable request.
const joinedKey = (env, target) => `joined:${env.site}:${target}`;

export function readCounts(env, target) {
  return env.call("GET", "/engagement", { query: { target }, revalidate: true });
}

export function readReaderState(env, target) {
  if (readStore(joinedKey(env, target), true) === false) return Promise.resolve({ reader: {} });
  return env.call("GET", "/engagement/reader", { query: { target }, asReader: true });
}

export function mountCounters(container, env) {
  const { t, call } = env;
  const target = container.dataset.target || "site";
  const heading = h("h2", {}, t("stay"));
  const counts = {};
  const buttons = {};
  const state = { counters: null, reader: null };
  // Counts the server rendered into the page (engagement.html) show at once, until the reader's own state comes.
  const rendered = JSON.parse(container.querySelector(":scope > section[data-counts]")?.dataset.counts || "{}");
  const item = (kind, label, action) => {
    counts[kind] = h("span", { class: "n" }, kind in rendered ? env.num(rendered[kind]) : "–");
    buttons[kind] = button(action, null, { "aria-pressed": "false", disabled: true });
    return h("li", {}, counts[kind], h("span", {}, label), buttons[kind]);
  };
  // Either answer, or both in one (a like's answer): the buttons wait for the counts and the reader's state.
  const show = (data) => {
    if (data.counters) state.counters = data.counters;
    if (data.reader) {
      state.reader = data.reader;
      writeStore(joinedKey(env, target), Object.values(data.reader).some(Boolean));
    }
    if (state.counters) for (const kind in counts) counts[kind].textContent = env.num(state.counters[kind].count);
    for (const kind of ["fans", "followers"]) {
      buttons[kind].setAttribute("aria-pressed", !!state.reader?.[kind]);
      buttons[kind].disabled = !state.counters || !state.reader;
    }
  };
  const list = h(
    "ul",
    { class: "sc" },
    item("fans", t("fans"), t("like")),
    item("followers", t("followers"), t("follow")),
    item("subscribers", t("subscribers"), t("subscribe")),
  );
  for (const kind of ["fans", "followers"]) {
    buttons[kind].onclick = () =>
      toggleOptimistically(
        env,
        buttons[kind],
        !!state.reader[kind],
        state.counters[kind].count,
        (on, count) => {
          state.reader[kind] = on;
          state.counters[kind].count = count;
          show(state);
        },
        (on) => call(on ? "POST" : "DELETE", `/engagement/${kind}`, { query: { target }, asReader: true }),
        show,
      );
  }
  // Subscribe is a double opt-in by email; a page can leave it out with data-subscribe="false".
  const subscribe = container.dataset.subscribe !== "false" && subscribeForm(env, target, buttons.subscribers);
  buttons.subscribers.hidden = !subscribe;
  attachSection(container, env, heading, heading, list, subscribe);
  container.replaceChildren();
  // Asked for while the language loaded (boot.js).
  const failed = (error) => env.say(describeError(t, error));
  (env.first || readCounts(env, target)).then(show, failed);
  (env.firstReader || readReaderState(env, target)).then(show, failed);
}

function subscribeForm(env, target, opener) {
  const form = createForm(env, {
    names: ["email"],
    label: env.t("subscribe"),
    async send({ email }) {
      await env.call("POST", "/subscribers", { body: { email, target, lang: env.lang } });
      form.hidden = true;
      opener.setAttribute("aria-expanded", false);
      env.say(env.t("subscribed"));
    },
  });
  form.hidden = true;
  opener.disabled = false;
  opener.removeAttribute("aria-pressed");
  opener.setAttribute("aria-expanded", false);
  opener.onclick = () => {
    opener.setAttribute("aria-expanded", !(form.hidden = !form.hidden));
    form.querySelector("input").focus();
  };
  return form;
}
