// Forms: the comment form, the reply form, the inline editor and the subscribe form are one builder.
// Client checks mirror the server's so most mistakes are caught before a round trip; the server's
// own field errors are shown the same way, next to their field.
import { describeError } from "./api.js";
import { button, h, uid } from "./dom.js";
import { readStore, writeStore } from "./store.js";

const EMAIL_PATTERN = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const FIELD_LIMITS = { author_name: 245, author_email: 100, email: 100, author_url: 200 };

function checkField(t, name, value, bodyLimit) {
  const limit = FIELD_LIMITS[name] || bodyLimit;
  if (!value.trim()) return name === "author_url" ? "" : t("required");
  if ([...value].length > limit) return t("tooLong", { n: limit });
  // The server's test for markup in names: something that opens a tag.
  if (name === "author_name" && /<\s*\/?\s*[a-z!?]/i.test(value)) return t("noMarkup");
  if (name.endsWith("email") && !EMAIL_PATTERN.test(value)) return t("badEmail");
  if (name === "author_url" && !/^https?:\/\/[^\s/?#]+\S*$/i.test(value)) return t("badUrl");
  return "";
}

// A labelled control with its error slot; `note` is an optional hint shown under it.
function field(label, control, required, note) {
  const id = uid();
  const error = h("p", { class: "err", id: `${id}e` });
  control.id = id;
  control.required = required;
  control.setAttribute("aria-describedby", note ? `${id}n ${id}e` : `${id}e`);
  control.showError = (message) => {
    error.textContent = message;
    control.setAttribute("aria-invalid", !!message);
  };
  return h(
    "div",
    { class: "f" },
    h("label", { for: id }, label, required && h("span", { "aria-hidden": "true" }, " *")),
    control,
    note && h("p", { class: "hint", id: `${id}n` }, note),
    error,
  );
}

// names: the fields to show, named as the API names them. send(values) posts them and may reject
// with the API's error; onCancel adds a Cancel button. The form stays usable after an error.
export function createForm(env, { heading, names, value, label, send, onCancel }) {
  const { t } = env;
  const identity = names.includes("author_name");
  const saved = identity && readStore("author", null);
  const controls = {};
  const fields = {
    body: () => field(t("body"), h("textarea", { rows: 5 }), true),
    author_name: () => field(t("name"), h("input", { autocomplete: "name" }), true),
    author_email: () => field(t("email"), h("input", { type: "email", autocomplete: "email" }), true, t("emailHint")),
    email: () => field(t("email"), h("input", { type: "email", autocomplete: "email" }), true),
    author_url: () => field(t("url"), h("input", { type: "url", autocomplete: "url" }), false),
  };
  const submit = h("button", { type: "submit", class: "primary" }, label);
  const form = h("form", { class: "form", novalidate: true }, heading && h("h3", {}, heading));
  const rows = names.map((name) => {
    const row = fields[name]();
    controls[name] = row.querySelector("[id]");
    controls[name].name = name;
    controls[name].value = saved?.[name] ?? (name === "body" ? value ?? "" : "");
    return row;
  });
  const remember = h("input", { type: "checkbox", checked: !!saved });
  // Opt-in only: the server mails a confirmation link before any notification.
  const notify = h("input", { type: "checkbox" });
  // Forgetting happens as soon as the box is unticked, not only with the next comment.
  remember.onchange = () => remember.checked || writeStore("author", null);
  const honeypot = h("input", { name: "hp", tabindex: "-1", autocomplete: "off" });
  if (identity) {
    form.append(
      rows.shift(),
      h("div", { class: "trio" }, rows),
      h("label", { class: "chk" }, remember, t("remember")),
      h("label", { class: "chk" }, notify, t("notify")),
      h("div", { class: "hp", "aria-hidden": "true" }, honeypot),
    );
  } else form.append(...rows);
  form.append(h("div", { class: "btns" }, submit, onCancel && button(t("cancel"), onCancel)));

  // Shows {field: [message]} next to the controls and focuses the first bad one; false if there was one.
  const showProblems = (problems) => {
    let first;
    for (const [name, control] of Object.entries(controls)) {
      control.showError([].concat(problems[name] || "")[0]);
      if (problems[name]?.length) first ||= control;
    }
    first?.focus();
    return !first;
  };

  form.onsubmit = async (event) => {
    event.preventDefault();
    const values = {};
    const problems = {};
    for (const [name, control] of Object.entries(controls)) {
      values[name] = name === "body" ? control.value : control.value.trim();
      problems[name] = checkField(t, name, values[name], env.settings?.max_body_length);
    }
    if (!showProblems(problems)) return;
    submit.disabled = true;
    try {
      await send(identity ? { ...values, hp: honeypot.value, notify_replies: notify.checked } : values);
      if (identity) {
        const { author_name, author_email, author_url } = values;
        writeStore("author", remember.checked ? { author_name, author_email, author_url } : null);
      }
      if (controls.body) controls.body.value = "";
    } catch (error) {
      if (!error.fields || showProblems(error.fields)) env.say(describeError(t, error));
    }
    submit.disabled = false;
  };
  return form;
}
