// Upvote without a reload. Without JavaScript the same forms post and redirect back.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches("[data-vote]")) return;
  event.preventDefault();
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) { form.submit(); return; }
    const result = await response.json();
    button.setAttribute("aria-pressed", String(result.voted));
    const label = button.querySelector("span:not(.visually-hidden):not([aria-hidden])");
    if (label) label.textContent = result.voted ? "Upvoted" : "Upvote";
    const count = form.parentElement.querySelector("[data-count]");
    if (count) count.textContent = String(result.upvotes);
    const unit = form.parentElement.querySelector("[data-unit]");
    if (unit) unit.textContent = result.upvotes === 1 ? "upvote" : "upvotes";
  } finally {
    button.disabled = false;
  }
});
