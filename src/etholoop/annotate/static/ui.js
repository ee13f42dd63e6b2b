// Small page helpers shared by both views: the help panel and transient messages.

/** `H` (or the ? button) toggles the help panel; Escape closes it. */
export function bindHelp() {
  const help = document.getElementById("help");
  const toggle = () => (help.hidden = !help.hidden);
  document.getElementById("help-button")?.addEventListener("click", toggle);
  document.getElementById("help-close")?.addEventListener("click", () => (help.hidden = true));
  window.addEventListener("keydown", (e) => {
    if (e.target.matches("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "h" || e.key === "H") {
      e.preventDefault();
      toggle();
    } else if (e.key === "Escape") help.hidden = true;
  });
}

/** Show `text` in the element with id `id` for a few seconds. */
export function showMessage(id, text, ms = 4000) {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(el._timer);
  el._timer = setTimeout(() => (el.hidden = true), ms);
}
