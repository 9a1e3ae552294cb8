// The console's queue (templates/console/queue.html), progressively enhanced: j/k move between cards,
// f/s/d decide, e edits the body in place, ? shows the keys. A decision goes by fetch to the same form endpoint (CSRF header), the
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

  // POST a form's fields as the plain form would, asking for JSON; a refusal throws its message (and
  // the field errors, for a form to show next to its fields).
  async function post(url, values) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
      body: new URLSearchParams(values),
      credentials: "same-origin",
    });
    const answer = await response.json().catch(function () {
      return {};
    });
    if (!response.ok) {
      const error = new Error(answer.error ? answer.error.message : "That failed (" + response.status + ").");
      error.fields = (answer.error && answer.error.fields) || {};
      throw error;
    }
    return answer;
  }

  function send(id, status, seen) {
    return post("/console/comments/" + id + "/decision", { status: status, seen: seen });
  }

  function labelled(tag, name, label, value, id) {
    const wrapper = document.createElement("div");
    const caption = document.createElement("label");
    const control = document.createElement(tag);
    control.id = "edit-" + id + "-" + name;
    control.name = name;
    control.value = value;
    if (tag === "textarea") {
      control.rows = 6;
    }
    caption.htmlFor = control.id;
    caption.textContent = label;
    wrapper.append(caption, control);
    return wrapper;
  }

  function showFieldErrors(form, fields) {
    form.querySelectorAll(".error").forEach(function (old) {
      old.remove();
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (control) {
      control.removeAttribute("aria-invalid");
      control.removeAttribute("aria-describedby");
    });
    Object.keys(fields).forEach(function (name) {
      const control = form.elements.namedItem(name);
      const message = document.createElement("p");
      message.className = "error";
      message.id = (control ? control.id : form.id) + "-error";
      message.textContent = [].concat(fields[name]).join(" ");
      if (control) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", message.id);
        control.after(message);
      } else {
        form.prepend(message);
      }
    });
  }

  // e: the Edit link's page, in place. The textarea starts from the stored Markdown (data-body); the
  // answer carries the new sanitized HTML, the same the page shows unescaped.
  function openEditor(card) {
    const existing = card.querySelector("form.inline-edit");
    if (existing) {
      existing.elements.namedItem("body").focus();
      return;
    }
    const link = card.querySelector(".edit-link");
    const id = card.dataset.id;
    const form = document.createElement("form");
    form.className = "inline-edit";
    form.id = "edit-" + id;
    form.method = "post";
    form.action = link.href;
    const save = document.createElement("button");
    save.type = "submit";
    save.textContent = "Save";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "secondary";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", function () {
      form.remove();
      select(card);
    });
    form.append(
      labelled("textarea", "body", "Body (Markdown)", link.dataset.body, id),
      labelled("input", "reason", "Reason (kept in the audit log)", "", id),
      save,
      cancel
    );
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const typed = form.elements.namedItem("body").value;
      let answer;
      try {
        answer = await post(form.action, { body: typed, reason: form.elements.namedItem("reason").value });
      } catch (error) {
        showFieldErrors(form, Object.keys(error.fields).length ? error.fields : { body: error.message });
        return;
      }
      card.querySelector(".body").innerHTML = answer.html;
      link.dataset.body = typed;
      form.remove();
      select(card);
      announce(answer.message);
    });
    card.append(form);
    form.elements.namedItem("body").focus();
  }

  async function togglePin(card, form, button) {
    let answer;
    try {
      answer = await post(form.action, { pinned: button.value });
    } catch (error) {
      announce(error.message);
      return;
    }
    button.value = answer.pinned ? "false" : "true";
    button.textContent = answer.pinned ? "Unpin" : "Pin";
    card.querySelector(".pinned").hidden = !answer.pinned;
    announce(answer.message);
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

  root.addEventListener("submit", function (event) {
    const form = event.target;
    const card = form.closest(".card");
    if (card && form.classList.contains("pin") && event.submitter) {
      event.preventDefault();
      togglePin(card, form, event.submitter);
    }
  });

  root.addEventListener("click", function (event) {
    const card = event.target.closest(".cards > .card");
    const editLink = event.target.closest(".edit-link");
    if (card && editLink) {
      event.preventDefault();
      openEditor(card);
    } else if (card && !event.target.closest("a, button, input, textarea, label")) {
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
    } else if (event.key === "e") {
      const card = selected() || cards()[0];
      if (card) {
        event.preventDefault();
        select(card);
        openEditor(card);
      }
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
