// Element building. Strings only ever become text nodes or attribute values; the one exception,
// server-sanitized comment HTML, goes through setSafeHtml.
// The stylesheet as one minified string (the build); pages with a CSP allow it by its hash.
import WIDGET_CSS from "./styles.css";

let lastId = 0;
export const uid = () => `e${++lastId}`;

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  el.append(...children.flat().filter(Boolean));
  return el;
}

export const button = (label, onclick, props) => h("button", { type: "button", onclick, ...props }, label);

// Renders into the container's own shadow root, so host CSS cannot reach in and ours cannot leak out:
// a section labelled by `heading`, then a polite status line that env.say() writes to.
export function attachSection(container, env, heading, ...children) {
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  env.say = (message) => (status.textContent = message);
  heading.id = uid();
  container
    .attachShadow({ mode: "open" })
    .append(
      h("style", { text: WIDGET_CSS }),
      h("section", { class: "w", lang: env.lang, dir: env.dir, "aria-labelledby": heading.id }, children, status),
    );
}

// `html` was sanitized by the server's one HTML policy (engagement/rendering.py) when it was written.
export function setSafeHtml(el, html) {
  const template = document.createElement("template");
  template.innerHTML = html || "";
  el.replaceChildren(template.content);
}

export const isWebUrl = (url) => /^https?:\/\//i.test(url || "");
