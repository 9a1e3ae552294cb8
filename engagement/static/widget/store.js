// The little the widget remembers in the reader's browser: localStorage only, no cookies.
export function readStore(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(`engagement:${key}`)) ?? fallback;
  } catch {
    return fallback;
  }
}

// null forgets the key.
export function writeStore(key, value) {
  try {
    if (value === null) localStorage.removeItem(`engagement:${key}`);
    else localStorage.setItem(`engagement:${key}`, JSON.stringify(value));
  } catch {
    // Storage can be full or blocked (private mode, sandboxed frames); the widget works without it.
  }
}

// A random id per browser, so likes and follows count once per reader without any login.
let reader;
export function readerId() {
  reader ||= readStore("reader", "");
  if (!/^[0-9a-f]{32}$/.test(reader)) {
    reader = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    writeStore("reader", reader);
  }
  return reader;
}
