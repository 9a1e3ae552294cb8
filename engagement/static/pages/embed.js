// The embed page's copy button (templates/embed.html); a file, not inline: the page's CSP runs no inline script.
document.getElementById("copy").addEventListener("click", async () => {
  await navigator.clipboard.writeText(document.getElementById("snippet").textContent);
  document.getElementById("copied").textContent = "Copied.";
});
