// Talking to the API: requests, the errors readers are shown, optimistic toggles.
import { forgetSession, readSession } from "./sso.js";
import { readerId } from "./store.js";

// call(method, path, options) resolves to the parsed JSON (null for 204, or for a success whose body could not
// be read: the page is leaving, say, and the service has done the write) or rejects with the API's error object
// {code, message, fields?}; a network failure rejects with {code: "network"}. An answer
// with an ETag carries it as `etag`. `revalidate` makes the browser ask its cached copy's ETag again
// (a 304 on the wire when nothing changed, the cached body for this code).
export function makeApi(origin, site) {
  const base = `${origin}/api/v1/sites/${encodeURIComponent(site)}`;
  return async (method, path, { query, body, token, asReader, revalidate } = {}) => {
    const url = new URL(base + path);
    for (const [key, value] of Object.entries(query || {})) {
      for (const item of [].concat(value ?? [])) url.searchParams.append(key, item);
    }
    const headers = {};
    if (body) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    if (asReader) headers["X-Engagement-Reader"] = readerId();
    // A signed-in reader's writes carry their session (reads stay shared and cacheable, without it).
    const session = method !== "GET" && readSession(site);
    if (session) headers["X-Engagement-Session"] = session.session;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body && JSON.stringify(body),
        credentials: "omit",
        cache: revalidate ? "no-cache" : "default",
      });
    } catch {
      throw { code: "network" };
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = { code: "failed", ...data?.error };
      if (session && /^sso_session_/.test(error.code)) forgetSession(site);
      throw error;
    }
    if (data && response.headers.get("ETag")) data.etag = response.headers.get("ETag").replace(/^W\//, "").replaceAll('"', "");
    return data;
  };
}

export function describeError(t, { code }) {
  const known = {
    thread_closed: t("closed"),
    comment_flood: t("tooFast"),
    rate_limited: t("tooFast"),
    duplicate_comment: t("duplicate"),
    invalid_edit_token: t("expired"),
    edit_window_expired: t("expired"),
    sso_session_expired: t("signInAgain"),
    sso_session_invalid: t("signInAgain"),
    sso_required: t("signInToComment"),
  };
  return known[code] || t("failed");
}

// Flip a toggle at once and let the server's answer settle it; on failure put the old state back. A success
// without a readable answer keeps the flipped state: the service did it (rolling back would make the browser
// forget a like the service counted, as a reload during the answer's body did).
// `request(on)` is the call; `settle(answer)` shows what the service answered.
export async function toggleOptimistically(env, button, on, count, show, request, settle) {
  if (button.busy) return;
  button.busy = true;
  show(!on, count + (on ? -1 : 1));
  try {
    const answer = await request(!on);
    if (answer) settle(answer);
  } catch (error) {
    show(on, count);
    env.say(describeError(env.t, error));
  }
  button.busy = false;
}
