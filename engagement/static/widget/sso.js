// Single sign-on (docs/sso.md): the token the host page's backend signed for its signed-in reader (from
// data-sso-token or Engagement.login(token)) is exchanged at once for a reader session of ours, kept in
// this tab's sessionStorage (never a cookie) and sent with posts, edits and likes. An empty
// data-sso-token, Engagement.logout() or an expired session forget it; every form of the site redraws.
const listeners = new Set();
const keyOf = (site) => `engagement:sso:${site}`;

// The session of this tab for the site, unless it is about to expire.
export function readSession(site) {
  try {
    const saved = JSON.parse(sessionStorage.getItem(keyOf(site)));
    if (saved?.session && Date.parse(saved.expires_at) > Date.now() + 5000) return saved;
  } catch {
    // Storage blocked (sandboxed frames): the reader comments as a guest.
  }
  return null;
}

function keep(site, value) {
  try {
    if (value) sessionStorage.setItem(keyOf(site), JSON.stringify(value));
    else sessionStorage.removeItem(keyOf(site));
  } catch {
    // As above.
  }
  for (const listener of listeners) listener(site);
}

export const onSessionChange = (listener) => listeners.add(listener);
export const forgetSession = (site) => readSession(site) && keep(site, null);

// The token's user, read without verifying it (the service verifies): a page that signs the same reader
// in on every view needs no new session while the one this tab has lasts.
function userOf(token) {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/")));
    return String(claims.sub ?? claims.user?.id ?? "");
  } catch {
    return "";
  }
}

export async function signIn(call, site, token) {
  const current = readSession(site);
  if (current && current.user.id === userOf(token)) return current.user;
  const answer = await call("POST", "/sso/session", { body: { token } });
  keep(site, answer);
  return answer.user;
}
