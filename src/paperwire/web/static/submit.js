// While arXiv is asked, the submit button is disabled and says so (the server gives up
// after a few seconds and offers a retry and the form to add the paper by hand).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.busy) return;
  const button = form.querySelector("button[type=submit]");
  const status = form.querySelector(".busy");
  if (button) button.disabled = true;
  if (status) status.textContent = form.dataset.busy;
});
// Coming back to the page (the back button) finds the button usable again.
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[data-busy]")) {
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = false;
    const status = form.querySelector(".busy");
    if (status) status.textContent = "";
  }
});
