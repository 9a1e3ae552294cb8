// The console's queue (templates/console/queue.html), progressively enhanced: j/k move between cards,
// f/s/d decide, ? shows the keys. A decision goes by fetch to the same form endpoint (CSRF header), the
// card leaves without a reload, the tab count drops, and Undo (10 s) sends the previous status back.
// Without this script every button is a plain form POST.
"use strict";

(function () {
  const root = document.getElementById("queue");
  if (!root) {
    return;
  }
  const UNDO_MS = 10000;
  const csrf = root.dataset.csrf;
  const live = document.getElementById("queue-live");
  const keysDialog = document.getElementById("queue-keys");
  const currentTab = root.querySelector(".tabs [aria-current=page]");
  const tab = currentTab ? currentTab.dataset.tab : "pending";
  const keyToStatus = { f: "approved", s: "spam", d: "trash" };
  let undoTimer = null;

  function cards() {
    return Array.from(root.querySelectorAll(".cards > .card"));
  }

  function selected() {
    return root.querySelector(".cards > .card.selected");
  }

  function select(card) {
    const before = selected();
    if (before) {
      before.classList.remove("selected");
    }
    if (card) {
      card.classList.add("selected");
      card.focus();
    }
  }

  function move(step) {
    const all = cards();
    if (all.length === 0) {
      return;
    }
    const at = all.indexOf(selected());
    const next = at === -1 ? 0 : Math.min(all.length - 1, Math.max(0, at + step));
    select(all[next]);
  }

  function changeCount(status, delta) {
    const badge = root.querySelector('[data-count="' + status + '"]');
    if (badge) {
      badge.textContent = String(Math.max(0, Number(badge.textContent) + delta));
    }
  }

  function announce(text, undo) {
    live.replaceChildren(document.createTextNode(text));
    if (undo) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary undo";
      button.textContent = "Undo";
      button.addEventListener("click", undo);
      live.append(" ", button);
    }
    live.hidden = false;
  }

  async function send(id, status, seen) {
    const body = new URLSearchParams({ status: status, seen: seen });
    const response = await fetch("/console/comments/" + id + "/decision", {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
      body: body,
      credentials: "same-origin",
    });
    const answer = await response.json().catch(function () {
      return {};
    });
    if (!response.ok) {
      const message = answer.error ? answer.error.message : "The decision failed (" + response.status + ").";
      throw new Error(message);
    }
    return answer;
  }

  async function decide(card, status) {
    const seen = card.dataset.status;
    let answer;
    try {
      answer = await send(card.dataset.id, status, seen);
    } catch (error) {
      announce(error.message);
      return;
    }
    const all = cards();
    const at = all.indexOf(card);
    const placeholder = document.createComment("card " + card.dataset.id);
    card.replaceWith(placeholder);
    changeCount(seen, -1);
    select(cards()[at] || cards()[at - 1] || null);
    if (answer.stale) {
      announce(answer.message);
      return;
    }
    changeCount(answer.status, 1);
    card.dataset.status = seen;
    clearTimeout(undoTimer);
    announce(answer.message, async function () {
      clearTimeout(undoTimer);
      try {
        await send(card.dataset.id, seen, answer.status);
      } catch (error) {
        announce(error.message);
        return;
      }
      changeCount(answer.status, -1);
      changeCount(seen, 1);
      placeholder.replaceWith(card);
      select(card);
      announce("Undone: comment " + card.dataset.id + " is " + seen + " again.");
    });
    undoTimer = setTimeout(function () {
      live.hidden = true;
    }, UNDO_MS);
  }

  // In the All tab a card stays whatever it becomes: its plain form POST reloads the page instead.
  if (tab !== "all") {
    root.addEventListener("submit", function (event) {
      const form = event.target;
      const card = form.closest(".card");
      if (!card || !event.submitter || event.submitter.name !== "status") {
        return;
      }
      event.preventDefault();
      decide(card, event.submitter.value);
    });
  }

  root.addEventListener("click", function (event) {
    const card = event.target.closest(".cards > .card");
    if (card && !event.target.closest("a, button")) {
      select(card);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest("input, select, textarea, dialog")) {
      return;
    }
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      move(event.key === "j" ? 1 : -1);
    } else if (event.key === "?") {
      event.preventDefault();
      keysDialog.showModal();
    } else if (keyToStatus[event.key]) {
      const card = selected() || cards()[0];
      const button = card && card.querySelector('button[name=status][value="' + keyToStatus[event.key] + '"]');
      if (button) {
        event.preventDefault();
        select(card);
        button.click();
      }
    }
  });
})();
