// Reporting a comment: a small form (a reason, an optional note) under the comment; once sent, the
// action reads "Reported" in this browser for good. Disagreeing is answered with a reply, not a report.
import { describeError } from "./api.js";
import { button, h } from "./dom.js";
import { readStore, writeStore } from "./store.js";

export function reportAction(env, comment, actions) {
  const { t } = env;
  const key = `reported:${env.site}`;
  const done = () => h("span", { class: "hint", tabindex: -1 }, t("reported"));
  if (readStore(key, []).includes(comment.id)) return done();
  const open = button(t("report"), () => {
    const form = h(
      "form",
      { class: "form rep" },
      h(
        "fieldset",
        {},
        h("legend", {}, t("report")),
        Object.entries({ spam: t("spam"), abuse: t("abuse"), off_topic: t("off_topic"), other: t("other") }).map(
          ([value, label], i) => h("label", {}, h("input", { type: "radio", name: "reason", value, checked: !i }), ` ${label}`),
        ),
      ),
      h("label", {}, t("note"), h("textarea", { name: "note", maxlength: 500 })),
      h("p", { class: "hint" }, t("disagree")),
      h("button", { type: "submit", class: "primary" }, t("report")),
      button(t("cancel"), () => (form.remove(), (open.disabled = false), open.focus())),
    );
    form.onsubmit = async (event) => {
      event.preventDefault();
      const { reason, note } = form.elements;
      try {
        await env.call("POST", `/comments/${comment.id}/reports`, { body: { reason: reason.value, note: note.value }, asReader: true });
      } catch (error) {
        return env.say(describeError(t, error));
      }
      writeStore(key, [...readStore(key, []), comment.id].slice(-500));
      const shown = done();
      form.remove();
      open.replaceWith(shown);
      shown.focus();
      env.say(t("thanks"));
    };
    open.disabled = true;
    actions.after(form);
    form.querySelector("input").focus();
  });
  return open;
}
