// The console's queue (templates/console/queue.html), progressively enhanced: j/k move between cards,
// f/s/d decide, e edits the body in place, b bans the author, x selects (shift-click: a range) for the
// bulk bar, z shows one card at a time, / searches, 1-5 switch tabs, ? shows the keys. A decision goes
// by fetch to the same form endpoint (CSRF header), the card leaves without a reload (in All it changes
// in place), the counts follow, and Undo (10 s) sends the previous status back. The focused card's
// author panel loads into the aside (beside the list, or inside the card on a narrow screen); the tab
// counts refresh every 20 s while the page is visible. Without this script every button is a plain form
// POST and every link a page.
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
  const bulkAction = { approved: "approve", pending: "pending", spam: "spam", trash: "trash" };
  const layout = root.querySelector(".queue-layout");
  const aside = document.getElementById("author-aside");
  const wide = window.matchMedia("(min-width: 64rem)");
  const banDialog = document.getElementById("ban-dialog");
  const banForm = document.getElementById("ban-form");
  const bulkForm = document.getElementById("bulk");
  let undoTimer = null;
  let panelTimer = null;
  let lastBox = null;
  let countsTag = "";

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
      if (aside.dataset.id !== card.dataset.id) {
        showPanel(card, 300);
      }
    }
  }

  // The author panel of the focused card, once j/k stop for a moment (no request per key press).
  function showPanel(card, wait) {
    clearTimeout(panelTimer);
    panelTimer = setTimeout(async function () {
      const response = await fetch("/console/comments/" + card.dataset.id + "/author", {
        headers: { "X-Console-Fragment": "1" },
        credentials: "same-origin",
      }).catch(function () {
        return null;
      });
      if (!response || !response.ok || selected() !== card) {
        return;
      }
      aside.innerHTML = await response.text(); // the server's template, every value escaped
      aside.dataset.id = card.dataset.id;
      (wide.matches ? layout : card).append(aside);
      aside.hidden = false;
    }, wait);
  }

  function reloadPanel() {
    const card = selected();
    if (card) {
      showPanel(card, 0);
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
      let control = form.elements.namedItem(name);
      if (control && !control.id && control.length) {
        control = control[0].closest("fieldset"); // a group of checkboxes or radios
      }
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

  // Show a card in its new status: in All it stays, with its buttons and status changed; elsewhere it
  // leaves its tab. Returns how to put it back.
  function moveCard(card, status) {
    const before = card.dataset.status;
    if (tab === "all") {
      setStatus(card, status);
      return function () {
        setStatus(card, before);
      };
    }
    const placeholder = document.createComment("card " + card.dataset.id);
    changeCount(before, -1);
    changeCount(status, 1);
    card.replaceWith(placeholder);
    return function () {
      changeCount(status, -1);
      changeCount(before, 1);
      placeholder.replaceWith(card);
    };
  }

  function setStatus(card, status) {
    changeCount(card.dataset.status, -1);
    changeCount(status, 1);
    card.dataset.status = status;
    card.querySelector(".status").textContent = status;
    card.querySelector("input[name=seen]").value = status;
    card.querySelectorAll("button[name=status]").forEach(function (button) {
      button.hidden = button.value === "restore" ? status !== "spam" && status !== "trash" : button.value === status;
    });
  }

  function offerUndo(message, undo) {
    clearTimeout(undoTimer);
    announce(message, async function () {
      clearTimeout(undoTimer);
      try {
        announce(await undo());
      } catch (error) {
        announce(error.message);
      }
    });
    undoTimer = setTimeout(function () {
      live.hidden = true;
    }, UNDO_MS);
  }

  function selectNear(at) {
    if (!selected()) {
      const all = cards();
      select(all[at] || all[all.length - 1] || null);
    }
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
    const at = cards().indexOf(card);
    const putBack = moveCard(card, answer.status);
    if (tab === "reported" && !answer.stale) {
      changeCount("reported", -1); // kept (reports dismissed), spam or trash: it leaves the Reported tab
    }
    selectNear(at);
    if (answer.stale || answer.undoable === false) {
      announce(answer.message);
      return;
    }
    offerUndo(answer.message, async function () {
      await send(card.dataset.id, seen, answer.status);
      putBack();
      select(card);
      return "Undone: comment " + card.dataset.id + " is " + seen + " again.";
    });
  }

  function postBulk(ids, action) {
    return post("/console/comments/bulk", [["action", action]].concat(ids.map((id) => ["ids", id])));
  }

  function checked() {
    return cards().filter((card) => card.querySelector(".select").checked);
  }

  function updateBar() {
    const count = checked().length;
    document.getElementById("bulk-count").textContent = count + " selected:";
    bulkForm.hidden = count === 0;
  }

  // One POST for every checked card; Undo sends each group back to the status it had, by bulk again.
  async function bulk(action) {
    const chosen = checked();
    let answer;
    try {
      answer = await postBulk(chosen.map((card) => card.dataset.id), action);
    } catch (error) {
      announce(error.message);
      return;
    }
    const done = chosen.filter((card) => answer.updated.indexOf(Number(card.dataset.id)) !== -1);
    const at = cards().indexOf(done[0]);
    const groups = {};
    const putBack = done.map(function (card) {
      (groups[card.dataset.status] = groups[card.dataset.status] || []).push(card.dataset.id);
      card.querySelector(".select").checked = false;
      return moveCard(card, answer.status);
    });
    updateBar();
    selectNear(at);
    offerUndo(answer.message, async function () {
      for (const status of Object.keys(groups)) {
        await postBulk(groups[status], bulkAction[status]);
      }
      putBack.forEach((back) => back());
      return "Undone: " + done.length + " back where they were.";
    });
  }

  function openBan(id) {
    const card = document.getElementById("card-" + id);
    banForm.reset();
    showFieldErrors(banForm, {});
    banForm.action = "/console/comments/" + id + "/ban";
    document.getElementById("ban-who").textContent =
      "Comment " + id + (card ? " by " + card.querySelector(".meta strong").textContent : "");
    banDialog.showModal();
  }

  banForm.addEventListener("submit", async function (event) {
    event.preventDefault();
    let answer;
    try {
      answer = await post(banForm.action, new FormData(banForm));
    } catch (error) {
      showFieldErrors(banForm, Object.keys(error.fields).length ? error.fields : { note: error.message });
      return;
    }
    banDialog.close();
    announce(answer.message);
    reloadPanel();
  });
  document.getElementById("ban-cancel").addEventListener("click", function () {
    banDialog.close();
  });
  // A closed dialog can keep the focus on its button, where keys are ignored: back to the card.
  [keysDialog, banDialog].forEach(function (dialog) {
    dialog.addEventListener("close", function () {
      const card = selected();
      if (card) {
        card.focus();
      } else if (dialog.contains(document.activeElement)) {
        document.activeElement.blur();
      }
    });
  });

  async function refreshCounts() {
    if (document.visibilityState !== "visible") {
      return;
    }
    const headers = { Accept: "application/json" };
    if (countsTag) {
      headers["If-None-Match"] = countsTag;
    }
    const url = "/console/counts?site=" + encodeURIComponent(root.dataset.site);
    const response = await fetch(url, { headers: headers, credentials: "same-origin" }).catch(function () {
      return null;
    });
    if (!response || response.status !== 200) {
      return; // 304: unchanged
    }
    countsTag = response.headers.get("ETag") || "";
    const counts = await response.json();
    Object.keys(counts).forEach(function (status) {
      const badge = root.querySelector('[data-count="' + status + '"]');
      if (badge) {
        badge.textContent = String(counts[status]);
      }
    });
  }
  setInterval(refreshCounts, 20000);
  document.addEventListener("visibilitychange", refreshCounts);
  updateBar();
  bulkForm.addEventListener("reset", function () {
    setTimeout(updateBar);
  });

  root.addEventListener("submit", function (event) {
    const form = event.target;
    const card = form.closest(".card");
    const name = event.submitter ? event.submitter.name : "";
    if (form.classList.contains("unban")) {
      event.preventDefault();
      post(form.action, new FormData(form)).then(function (answer) {
        announce(answer.message);
        reloadPanel();
      }, function (error) {
        announce(error.message);
      });
    } else if (form === bulkForm && name === "action") {
      event.preventDefault();
      bulk(event.submitter.value);
    } else if (card && name === "status") {
      event.preventDefault();
      decide(card, event.submitter.value);
    } else if (card && form.classList.contains("pin") && event.submitter) {
      event.preventDefault();
      togglePin(card, form, event.submitter);
    }
  });

  root.addEventListener("click", function (event) {
    const card = event.target.closest(".cards > .card");
    const editLink = event.target.closest(".edit-link");
    const box = event.target.closest(".select");
    const banLink = event.target.closest(".ban-link");
    if (box) {
      if (event.shiftKey && lastBox && lastBox !== box) {
        const boxes = cards().map((each) => each.querySelector(".select"));
        const ends = [boxes.indexOf(lastBox), boxes.indexOf(box)].sort((a, b) => a - b);
        boxes.slice(ends[0], ends[1] + 1).forEach(function (each) {
          each.checked = box.checked;
        });
      }
      lastBox = box;
      updateBar();
    } else if (banLink) {
      event.preventDefault();
      openBan(banLink.dataset.id);
    } else if (card && editLink) {
      event.preventDefault();
      openEditor(card);
    } else if (card && !event.target.closest("a, button, input, textarea, label")) {
      select(card);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest("input, select, textarea, dialog[open]")) {
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
    } else if (event.key === "/") {
      event.preventDefault();
      document.getElementById("filter-q").focus();
    } else if ("12345".indexOf(event.key) !== -1) {
      event.preventDefault();
      location.href = root.querySelectorAll(".tabs a")[Number(event.key) - 1].href;
    } else if (event.key === "z") {
      event.preventDefault();
      root.classList.toggle("single");
      select(selected() || cards()[0] || null);
    } else if ((event.key === "x" || event.key === "b") && (selected() || cards()[0])) {
      const card = selected() || cards()[0];
      event.preventDefault();
      select(card);
      if (event.key === "b") {
        openBan(card.dataset.id);
      } else {
        const box = card.querySelector(".select");
        box.checked = !box.checked;
        lastBox = box;
        updateBar();
      }
    } else if (keyToStatus[event.key]) {
      const card = selected() || cards()[0];
      const button =
        card && card.querySelector('button[name=status][value="' + keyToStatus[event.key] + '"]:not([hidden])');
      if (button) {
        event.preventDefault();
        select(card);
        button.click();
      }
    }
  });
})();
