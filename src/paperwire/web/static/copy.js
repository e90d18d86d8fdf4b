// A Copy button for a block of text (the BibTeX on a paper page). Without JavaScript the
// button stays hidden and the block stays selectable (it is focusable, so a keyboard
// reader can select it too).
for (const button of document.querySelectorAll("button[data-copy]")) {
  const block = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector("[data-copied]");
  if (!block || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(block.textContent);
      if (status) status.textContent = "Copied.";
    } catch {
      if (status) status.textContent = "Could not copy: select the text and copy it.";
    }
  });
}
