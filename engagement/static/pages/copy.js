// Copy buttons (templates/console/site.html): a button with data-copy="ID" puts the text of element ID on
// the clipboard and says so in the live region data-copied names. Without the script the button stays
// hidden and the text is there to select.
"use strict";

document.querySelectorAll("button[data-copy]").forEach(function (button) {
  const source = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.copied);
  button.hidden = false;
  button.addEventListener("click", async function () {
    try {
      await navigator.clipboard.writeText(source.value || source.textContent);
      status.textContent = "Copied";
    } catch {
      source.select();
      status.textContent = "Selected: press Ctrl+C (or ⌘C) to copy";
    }
  });
});
