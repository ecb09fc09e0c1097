// /keys (admins): create an API key (shown once), list the keys, revoke one.

import { api, ApiError, el } from "/static/js/api.js";
import { utcTime } from "/static/js/manager/format.js";
import { clearErrors, failed, showDone, showErrors } from "/static/js/manager/forms.js";
import { allDocs } from "/static/js/manager/lists.js";
import { showSecret } from "/static/js/manager/secret.js";

const form = document.getElementById("create-key");
const createStatus = document.getElementById("create-status");
const listStatus = document.getElementById("list-status");

function revokeButton(key) {
  if (key.revoked_at) return null;
  const label = key.name || key.prefix;
  const button = el("button", {
    type: "button",
    text: "Revoke",
    "aria-label": `Revoke ${label}`,
    onclick: async () => {
      if (!window.confirm(`Revoke the key ${label}? Whoever uses it is locked out at once.`)) return;
      button.disabled = true;
      try {
        const revoked = await api("POST", `/v1/keys/${encodeURIComponent(key.id)}/revoke`);
        button.closest("tr").replaceWith(keyRow(revoked));
        showDone(listStatus, `Revoked ${label}.`);
      } catch (error) {
        button.disabled = false;
        failed(listStatus, `Could not revoke ${label}`)(error);
      }
    },
  });
  return button;
}

function keyRow(key) {
  return el("tr", { "data-key-id": key.id },
    el("th", { scope: "row", text: key.name || "–" }),
    el("td", { text: key.role }),
    el("td", {}, el("code", { text: `${key.prefix}…` })),
    el("td", { text: utcTime(key.created_at) }),
    el("td", { class: key.revoked_at ? "state-bad" : "state-ok", text: key.revoked_at ? `revoked ${utcTime(key.revoked_at)}` : "active" }),
    el("td", {}, revokeButton(key)),
  );
}

async function loadKeys() {
  const keys = await allDocs("/v1/keys");
  document.querySelector("#keys-table tbody").replaceChildren(...keys.reverse().map(keyRow));
  listStatus.textContent = `${keys.length} keys, newest first.`;
}

async function create(event) {
  event.preventDefault();
  clearErrors(form);
  const value = (name) => form.elements.namedItem(name).value;
  try {
    const key = await api("POST", "/v1/keys", { role: value("role"), name: value("name").trim() || null });
    showDone(createStatus, `Created a ${key.role} key.`);
    showSecret(document.getElementById("key-secret"), `The new ${key.role} key`, key.key);
    form.reset();
    await loadKeys();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showErrors(form, error, createStatus);
  }
}

form.addEventListener("submit", create);
loadKeys().catch(failed(listStatus, "Could not load the keys"));
