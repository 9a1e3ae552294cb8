// Element building. Strings only ever become text nodes or attribute values; the one exception,
// server-sanitized comment HTML, goes through setSafeHtml.
let lastId = 0;
const uid = () => `e${++lastId}`;

function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key == "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  el.append(...children.flat().filter((child) => child != null && child !== false && child !== ""));
  return el;
}

// The widget's own shadow root, so host CSS cannot reach in and ours cannot leak out.
function attachRoot(container) {
  const root = container.attachShadow({ mode: "open" });
  root.append(h("style", { text: WIDGET_CSS }));
  return root;
}

// `html` was sanitized by the server's one HTML policy (engagement/rendering.py) when it was written.
function setSafeHtml(el, html) {
  const template = document.createElement("template");
  template.innerHTML = html || "";
  el.replaceChildren(template.content);
}

const isWebUrl = (url) => /^https?:\/\//i.test(url || "");
