// A secret the server shows once (an API key, a callback secret), with a copy button.

import { el } from "/static/js/api.js";

export function showSecret(slot, label, secret) {
  const id = `secret-${slot.id}`;
  const input = el("input", { id, type: "text", readonly: true, value: secret, "data-testid": "secret", spellcheck: "false" });
  const copy = el("button", {
    type: "button",
    text: "Copy",
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(secret);
        copy.textContent = "Copied";
      } catch {
        input.select();
        copy.textContent = "Press Ctrl+C to copy";
      }
    },
  });
  slot.replaceChildren(
    el("div", { class: "notice secret", role: "alert" },
      el("label", { for: id, text: label }),
      el("div", { class: "row" }, input, copy),
      el("p", { text: "It is shown only now: store it before you leave this page." }),
    ),
  );
  input.select();
}
