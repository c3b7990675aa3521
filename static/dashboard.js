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
