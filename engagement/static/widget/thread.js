// The comment thread: nested list, likes, sorting, "Load more", replies a page left out, and the
// reader's own comments (edit/delete while the edit token lives, the pending notice until approved);
// every other approved comment can be reported (report.js).
import { describeError, toggleOptimistically } from "./api.js";
import { avatarElement } from "./avatar.js";
import { attachSection, button, h, isWebUrl, setSafeHtml } from "./dom.js";
import { createForm } from "./form.js";
import { startLive } from "./live.js";
import { reportAction } from "./report.js";
import { onSessionChange, readSession } from "./sso.js";
import { readStore, writeStore } from "./store.js";

const PENDING_KEEP_MS = 7 * 864e5;
// A page is drawn a screenful first (top-level comments with their replies until this many comments are
// drawn), then the rest a chunk at a time, each chunk's script at most CHUNK_MS, between frames: a
// 200-comment page built in one task held the main thread for a quarter of a second before it painted.
const FIRST_CHUNK = 5;
const CHUNK_MS = 8;
const size = (comment) => (comment.replies || []).reduce((n, reply) => n + size(reply), 1);

// The first page the server rendered into the article (comments.html), read back from its data- attributes:
// the same page GET /comments answers, so the widget draws it without asking for it again.
function renderedPage(section) {
  const comment = (li) => {
    const data = li.dataset;
    const read = {
      id: +data.id,
      parent_id: data.parent ? +data.parent : null,
      depth: +data.depth,
      likes: +data.likes,
      status: data.status,
      created_at: data.created,
      edited_at: data.edited || null,
      author: { name: data.name, url: data.authorUrl || null, avatar: data.avatar || null, signed_in: data.signedIn === "true" },
      html: li.querySelector(":scope > .row .text").innerHTML,
      replies: [...li.querySelector(":scope > .replies").children].map(comment),
    };
    if (data.replyCount) {
      read.reply_count = +data.replyCount;
      read.more_replies = data.moreReplies === "true";
      read.replies_cursor = data.repliesCursor || null;
    }
    return read;
  };
  const data = section.dataset;
  return {
    etag: data.etag,
    thread: { comment_count: +data.count, closed: data.closed === "true" },
    settings: JSON.parse(data.settings),
    comments: [...section.querySelector(":scope > .list").children].map(comment),
    next_cursor: data.nextCursor || null,
  };
}

export function mountThread(container, env) {
  const { t, call } = env;
  const rendered = container.querySelector(":scope > section.w[data-etag]");
  const ownKey = `own:${env.site}:${env.thread}`;
  const likedKey = `liked:${env.site}`;
  // {comment id: {token, exp, at, body, pending: Comment | null}}: what this browser posted here.
  const own = readStore(ownKey, {});
  const liked = new Set(readStore(likedKey, []));
  const nodes = new Map();
  // Loaded replies whose parent is not shown yet: each goes under its parent when that comes.
  const waiting = [];
  let closed = false;
  let total = 0;
  let cursor = null;
  let sort = "oldest";
  env.settings = { max_depth: 1, max_body_length: 1e4 };

  const heading = h("h2");
  const sorter = h(
    "select",
    { onchange: () => ((sort = sorter.value), load(true)) },
    h("option", { value: "oldest" }, t("oldest")),
    h("option", { value: "newest" }, t("newest")),
    h("option", { value: "top" }, t("top")),
  );
  const formSlot = h("div");
  // Holds the floating "N new comments" button (live.js); takes no room.
  const liveSlot = h("div", { class: "live" });
  let live = null;
  const list = h("ol", { class: "list" });
  // Top-level comments of the pages read that are not drawn yet, in order (see FIRST_CHUNK).
  let queued = [];
  let drawing = false;
  const more = button(t("more"), () => load(false), { class: "more", hidden: true });
  attachSection(
    container,
    env,
    heading,
    h("div", { class: "bar" }, heading, h("label", { class: "sort" }, t("sort"), " ", sorter)),
    // Before the form, where no margin of the form or the list can collapse through it.
    liveSlot,
    formSlot,
    list,
    more,
  );

  function saveOwn() {
    const now = Date.now();
    for (const [id, entry] of Object.entries(own)) {
      const editable = Date.parse(entry.exp) > now;
      if (!editable && !(entry.pending && entry.at + PENDING_KEEP_MS > now)) delete own[id];
    }
    writeStore(ownKey, Object.keys(own).length ? own : null);
  }

  function setTotal(count) {
    total = count;
    heading.textContent = t("comments", { n: total });
    // The page's count links for this thread say the same.
    for (const link of document.querySelectorAll("a[data-engagement=count][data-site]")) {
      const key = link.dataset.thread || new URL(link.href, location.href).pathname;
      if (link.dataset.site === env.site && key === env.thread) link.textContent = t("comments", { n: total });
    }
  }

  // What live updates found, shown when the reader asks: new top-level comments where the sort puts them
  // (at the end only once every page is loaded), replies under their parents; focus goes to the first.
  function showArrived(arrived) {
    drawAll();
    const placed = arrived
      .slice()
      .reverse()
      .filter((comment) => !nodes.has(comment.id))
      .filter((comment) => comment.parent_id !== null || sort === "newest" || !cursor)
      .filter((comment) => comment.parent_id === null || nodes.has(comment.parent_id))
      .map(place);
    if (placed[0]) focus(sort === "newest" ? placed.at(-1) : placed[0]);
  }

  // Draws queued comments (each with its replies) until `budget` ms have gone (Infinity: all of them) or
  // `count` comments are drawn; answers the top-level ones drawn.
  function drawQueued(budget, count = Infinity) {
    const start = performance.now();
    const drawn = [];
    for (let n = 0; queued.length && n < count && performance.now() - start < budget; n += size(queued.shift())) {
      drawn.push(list.appendChild(renderComment(queued[0])));
    }
    if (queued.length && !drawing) {
      drawing = true;
      const step = () => ((drawing = false), drawQueued(CHUNK_MS));
      // After the next frame is painted, so each chunk's layout is its own; a hidden tab has no frames.
      if (document.hidden) setTimeout(step);
      else requestAnimationFrame(() => setTimeout(step));
    }
    return drawn;
  }

  // Whatever needs every comment of the pages read in place (a new one placed after them, a re-sort, a
  // live update asking what is shown) draws the rest first.
  const drawAll = () => drawQueued(Infinity);

  function renderComment(comment) {
    nodes.get(comment.id)?.li.remove();
    const replies = h("ol", { class: "replies" });
    const li = h("li", { class: "c" }, renderRow(comment), replies);
    nodes.set(comment.id, { comment, li, replies });
    replies.append(...(comment.replies || []).concat(waiting.filter((reply) => reply.parent_id === comment.id)).map(renderComment));
    if (comment.more_replies) li.append(moreReplies(comment));
    return li;
  }

  // A page carries a top-level comment's first replies; the rest come a batch at a time, in the order
  // they were written, each under its parent (held back until its parent comes, if need be).
  function moreReplies(root) {
    const count = (list) => list.reduce((n, reply) => n + 1 + count(reply.replies), 0);
    let left = root.reply_count - count(root.replies);
    let cursor = root.replies_cursor;
    // Replies posted since the page was read come too: the count is a floor.
    const label = () => (more.textContent = t("moreReplies", { n: Math.max(left, 1) }));
    const more = button("", async () => {
      more.disabled = true;
      try {
        const page = await call("GET", `/comments/${root.id}/replies`, { query: { cursor, limit: container.dataset.limit } });
        const added = page.replies
          .filter((reply) => !nodes.has(reply.id) && (nodes.has(reply.parent_id) || !waiting.push(reply)))
          .map(place);
        left -= page.replies.length;
        cursor = page.next_cursor;
        if (cursor) label();
        else more.remove();
        if (added[0] || !cursor) focus(added[0] || nodes.get(root.id).li);
      } catch (error) {
        env.say(describeError(t, error));
      }
      more.disabled = false;
    }, { class: "more-replies" });
    label();
    return more;
  }

  function renderRow(comment) {
    const gone = comment.status === "deleted";
    const author = comment.author || {};
    const name = gone ? t("deleted") : author.name;
    const text = h("div", { class: "text" });
    setSafeHtml(text, comment.html);
    const actions = h("div", { class: "acts" });
    if (comment.status === "approved") {
      actions.append(likeButton(comment));
      if (!closed && comment.depth < env.settings.max_depth - 1) {
        actions.append(button(t("reply"), (event) => openReply(comment, event.currentTarget)));
      }
      // The reader's own comments (those this browser still knows it posted) are not theirs to report.
      if (!own[comment.id]) actions.append(reportAction(env, comment, actions));
    }
    if (!gone && Date.parse(own[comment.id]?.exp) > Date.now()) {
      actions.append(
        button(t("edit"), () => startEdit(comment)),
        button(t("del"), () => remove(comment)),
      );
    }
    return h(
      "div",
      { class: "row" },
      avatar(gone ? null : author.avatar),
      h(
        "div",
        { class: "main" },
        h(
          "p",
          { class: "meta" },
          // dir=auto isolates the name: a right-to-left name (or a bidi control stored in one) cannot
          // reorder the date after it.
          !gone && isWebUrl(author.url)
            ? h("a", { class: "who", dir: "auto", href: author.url, rel: "nofollow ugc noopener" }, name)
            : h("span", { class: "who", dir: "auto" }, name),
          " ",
          // Written by a reader the site signed in (single sign-on), not by a guest who typed this name.
          !gone && author.signed_in && h("span", { class: "si" }, t("signedIn")),
          !gone && author.signed_in && " ",
          h("time", { datetime: comment.created_at }, env.ago(comment.created_at)),
          comment.edited_at && ` ${t("edited")}`,
        ),
        text,
        comment.status === "pending" && h("p", { class: "note" }, t("pending")),
        actions,
      ),
    );
  }

  // The service's identicons are drawn in the page (avatar.js); any other path of the service is an image
  // (loading set before src, or the browser fetches it at once).
  function avatar(path) {
    if (!/^\/[^/]/.test(path || "")) return h("span", { class: "av" });
    return avatarElement(path) || h("img", { class: "av", loading: "lazy", src: env.origin + path, alt: "", width: 40, height: 40 });
  }

  function likeButton(comment) {
    const count = h("span", {}, env.num(comment.likes));
    const toggle = button([h("span", { "aria-hidden": "true" }, "♥ "), h("span", { class: "vh" }, `${t("like")} `), count], null, {
      class: "like",
      "aria-pressed": String(liked.has(comment.id)),
    });
    const show = (on, likes) => {
      comment.likes = likes;
      count.textContent = env.num(likes);
      toggle.setAttribute("aria-pressed", on);
      liked[on ? "add" : "delete"](comment.id);
      writeStore(likedKey, [...liked].slice(-500));
    };
    toggle.onclick = () =>
      toggleOptimistically(
        env,
        toggle,
        liked.has(comment.id),
        comment.likes,
        show,
        (on) => call(on ? "POST" : "DELETE", `/comments/${comment.id}/likes`, { asReader: true }),
        (answer) => show(answer.liked, answer.likes),
      );
    return toggle;
  }

  function place(comment) {
    drawAll();
    const li = renderComment(comment);
    const parent = nodes.get(comment.parent_id);
    if (parent) parent.replies.append(li);
    else if (sort === "newest") list.prepend(li);
    else list.append(li);
    return li;
  }

  function focus(li) {
    li.tabIndex = -1;
    li.focus();
  }

  async function post(values, parent) {
    const result = await call("POST", "/comments", {
      body: {
        ...values,
        thread: env.thread,
        thread_url: env.url,
        thread_title: env.title,
        parent_id: parent?.id ?? null,
        // The mail this reader gets (reply notifications, their confirmation) speaks their language.
        lang: env.lang,
      },
    });
    const { comment } = result;
    const pending = comment.status === "pending";
    own[comment.id] = {
      token: result.edit_token,
      exp: result.edit_expires_at,
      at: Date.now(),
      body: values.body,
      pending: pending ? comment : null,
    };
    saveOwn();
    focus(place(comment));
    if (!pending) setTotal(total + 1);
    env.say(pending ? t("pending") : t("posted"));
  }

  // A guest names themselves; a signed-in reader is named by the site (their name only if it gave none).
  // Where the site wants readers signed in, a guest gets the sign-in prompt instead of the form.
  function commentForm(parent, close, onCancel) {
    const session = readSession(env.site);
    if (!session && env.settings.sso_required) return signInPrompt(t("signInToComment"));
    const form = createForm(env, {
      heading: parent ? t("reply") : t("leaveReply"),
      names: session ? ["body", ...(session.user.name ? [] : ["author_name"])] : ["body", "author_name", "author_email", "author_url"],
      label: t("post"),
      send: (values) => post(values, parent).then(close),
      onCancel,
    });
    const line = session
      ? h("p", { class: "signed" }, session.user.name ? t("signedInAs", { name: session.user.name }) : t("signedIn"))
      : loginUrl() && signInPrompt("", false);
    if (line) form.insertBefore(line, form.children[1]);
    return form;
  }

  const loginUrl = () => container.dataset.loginUrl || env.settings.sso_login_url;

  // "Sign in": the host's sign-in page (data-login-url, else the site's setting), after a cancelable
  // loginPrompt event on the container that a page opening its own sign-in dialog can take instead.
  function signInPrompt(text, primary = true) {
    const prompt = (event) => {
      const asked = new CustomEvent("loginPrompt", { bubbles: true, cancelable: true, detail: { site: env.site } });
      if (!container.dispatchEvent(asked)) event.preventDefault();
    };
    const url = loginUrl();
    const action = isWebUrl(url)
      ? h("a", { class: primary ? "primary btn" : null, href: url, onclick: prompt }, t("signIn"))
      : button(t("signIn"), prompt, { class: primary ? "primary" : null });
    return h("div", { class: "signin" }, text && h("p", {}, text), action);
  }

  // Signing in or out (this container's page, another tab's Engagement.login, an expired session) redraws
  // the form, keeping what the reader had typed.
  onSessionChange((site) => {
    if (site !== env.site || closed || !formSlot.firstChild) return;
    const typed = formSlot.querySelector("textarea")?.value;
    formSlot.replaceChildren(commentForm());
    const body = formSlot.querySelector("textarea");
    if (body && typed) body.value = typed;
  });

  function openReply(comment, button) {
    const node = nodes.get(comment.id);
    const close = () => {
      node.form.remove();
      node.form = null;
    };
    node.form ||= node.li.insertBefore(commentForm(comment, close, () => (close(), button.focus())), node.replies);
    node.form.querySelector("textarea").focus();
  }

  function update(comment) {
    const node = nodes.get(comment.id);
    node.comment = comment;
    node.li.firstChild.replaceWith(renderRow(comment));
  }

  function startEdit(comment) {
    const node = nodes.get(comment.id);
    const row = node.li.firstChild;
    const entry = own[comment.id];
    const editor = createForm(env, {
      names: ["body"],
      value: entry.body ?? row.querySelector(".text").innerText,
      label: t("save"),
      onCancel: () => editor.replaceWith(row),
      async send({ body }) {
        const result = await call("PATCH", `/comments/${comment.id}`, { body: { body }, token: entry.token });
        Object.assign(entry, { body, pending: result.comment.status === "pending" ? result.comment : null });
        saveOwn();
        update(result.comment);
        focus(node.li);
        env.say(t("updated"));
      },
    });
    row.replaceWith(editor);
    editor.querySelector("textarea").focus();
  }

  async function remove(comment) {
    if (!confirm(t("confirmDelete"))) return;
    try {
      await call("DELETE", `/comments/${comment.id}`, { token: own[comment.id].token });
    } catch (error) {
      return env.say(describeError(t, error));
    }
    delete own[comment.id];
    saveOwn();
    const node = nodes.get(comment.id);
    if (comment.status === "approved") setTotal(total - 1);
    // Replies stay readable under a placeholder, as the server will list them.
    if (node.replies.children.length) update({ ...comment, status: "deleted", author: {}, html: "" });
    else node.li.remove(), nodes.delete(comment.id);
    env.say(t("removed"));
  }

  function show(page, reset) {
    env.settings = page.settings;
    closed = page.thread.closed;
    setTotal(page.thread.comment_count);
    if (reset) list.replaceChildren(), nodes.clear(), (waiting.length = 0), (queued = []);
    drawAll();
    queued = page.comments.slice();
    const items = drawQueued(Infinity, FIRST_CHUNK);
    const listed = new Map();
    const walk = (comments) => comments.forEach((c) => (listed.set(c.id, c.status), walk(c.replies || [])));
    walk(page.comments);
    for (const entry of Object.values(own)) {
      if ((listed.get(entry.pending?.id) || nodes.get(entry.pending?.id)?.comment.status || "pending") !== "pending") {
        entry.pending = null;
      }
    }
    // Listings are shared and cached, so the reader's own pending comments come from localStorage.
    for (const entry of reset ? Object.values(own) : []) {
      const { pending } = entry;
      if (pending && (!pending.parent_id || listed.has(pending.parent_id) || nodes.has(pending.parent_id))) place(pending);
    }
    saveOwn();
    cursor = page.next_cursor;
    more.hidden = !cursor;
    live ||= liveSlot.appendChild(
      startLive(env, {
        limit: container.dataset.limit,
        known: page.etag,
        isShown: (id) => (drawAll(), nodes.has(id)),
        onCount: setTotal,
        onShow: showArrived,
      }),
    );
    if (reset) {
      // Re-sorting keeps a half-written comment.
      if (closed || !formSlot.firstChild) {
        formSlot.replaceChildren(closed ? h("p", { class: "note" }, t("closed")) : commentForm());
      }
      env.say("");
    } else if (items[0]) focus(items[0]);
  }

  async function load(reset) {
    more.disabled = true;
    try {
      // The first page was asked for while the language loaded (boot.js).
      const first = env.first;
      env.first = null;
      const page = await (first ||
        call("GET", "/comments", {
          query: { thread: env.thread, sort, limit: container.dataset.limit, cursor: reset ? null : cursor },
        }));
      show(page, reset);
    } catch (error) {
      env.say(describeError(t, error));
    }
    more.disabled = false;
  }

  if (rendered) adopt(rendered);
  else load(true);

  // Takes over the thread the server rendered: the same page, drawn in the shadow root in this one task (so
  // nothing is painted in between), with what the reader may have typed into its form before this script ran.
  function adopt(section) {
    const typed = new FormData(section.querySelector("form") || undefined);
    show(renderedPage(section), true);
    for (const name of ["body", "author_name", "author_email", "author_url"]) {
      const control = formSlot.querySelector(`[name="${name}"]`);
      if (control && typed.get(name)) control.value = typed.get(name);
    }
    container.replaceChildren();
    // A reader who posted through the server's form before this script ran lands on #comment-pending.
    if (location.hash === "#comment-pending") env.say(t("pending"));
  }
}
