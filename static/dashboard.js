// Dashboard client helpers (no build step): copy buttons, closing menus, and CSRF on fetches htmx does not make.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (button) {
    const text = button.getAttribute("data-copy") ?? "";
    const done = () => {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => (button.textContent = label), 1500);
    };
    if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, () => {});
    return;
  }
  // A click outside an open menu closes it, as users expect from a dropdown.
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!(event.target instanceof Node && menu.contains(event.target))) menu.removeAttribute("open");
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    menu.removeAttribute("open");
    menu.querySelector("summary")?.focus();
  }
});

// Forms marked data-confirm ask before they submit (revoking a key, removing a teammate, deleting data).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// The setup form learns the founder's timezone from the browser; the server checks it.
for (const input of document.querySelectorAll("input[data-detect-timezone]")) {
  if (!input.value) input.value = Intl.DateTimeFormat().resolvedOptions().timeZone ?? "";
}

// After a refused form, the first field with an error gets the focus (and the screen reader's attention).
// Run after load: scrolling to the URL's #fragment would otherwise take the focus back.
window.addEventListener("load", () => setTimeout(() => document.querySelector("[aria-invalid='true']")?.focus(), 0));
