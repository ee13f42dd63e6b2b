// Small page helpers shared by both views: the focus guard of key handlers, the
// help panel and transient messages.

/** Input types whose keys are not text: shortcuts still work while one has focus. */
const NOT_TEXT = new Set(["button", "checkbox", "color", "file", "hidden", "image", "radio", "range", "reset", "submit"]);

/** Whether a key event goes to something the user types in: a text-like input,
 * a textarea, a select or editable content (a range slider or a button is not). */
export function isTyping(event) {
  const el = event.target;
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable || el.matches("textarea, select")) return true;
  return el instanceof HTMLInputElement && !NOT_TEXT.has(el.type);
}

/** Whether a key event is the typing field's own; Escape and Enter leave the field. */
export function keyForField(event) {
  if (!isTyping(event)) return false;
  if (event.key === "Escape" || event.key === "Enter") event.target.blur();
  return true;
}

/** `H` (or the ? button) toggles the help panel; Escape closes it. */
export function bindHelp() {
  const help = document.getElementById("help");
  const toggle = () => (help.hidden = !help.hidden);
  document.getElementById("help-button")?.addEventListener("click", toggle);
  document.getElementById("help-close")?.addEventListener("click", () => (help.hidden = true));
  window.addEventListener("keydown", (e) => {
    if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
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
