// Keyboard shortcuts for the workspaces. Outside text fields a key goes to the page's
// handler first, then to the widget; inside one only Ctrl+Enter (submit) and Escape
// (leave the field) are taken, so typing is never hijacked.

export function inTextField(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable ||
      target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && !["button", "checkbox", "radio"].includes(target.type)))
  );
}

export function listenForShortcuts({ shortcuts, widget, submit }) {
  document.addEventListener("keydown", (event) => {
    if (document.querySelector("dialog[open]")) return;
    if (inTextField(event.target)) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submit();
      } else if (event.key === "Escape") {
        event.target.blur();
      }
      return;
    }
    if (event.altKey || event.metaKey) return;
    if (event.key === "Enter" && event.target.closest?.("a, [data-native-enter]")) return;
    const name = (event.ctrlKey ? "Ctrl+" : "") + (event.key.length === 1 ? event.key.toLowerCase() : event.key);
    const handler = shortcuts[name];
    if (handler) {
      event.preventDefault();
      handler(event);
      return;
    }
    if (!event.ctrlKey && widget()?.key(event)) event.preventDefault();
  });
}
