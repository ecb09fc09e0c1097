// /workers: add a worker (their key is shown once), list them, block and unblock them.

import { api, ApiError, el } from "/static/js/api.js";
import { utcTime } from "/static/js/manager/format.js";
import { clearErrors, failed, showDone, showErrors } from "/static/js/manager/forms.js";
import { allDocs } from "/static/js/manager/lists.js";
import { showSecret } from "/static/js/manager/secret.js";

const form = document.getElementById("create-worker");
const createStatus = document.getElementById("create-status");
const listStatus = document.getElementById("list-status");
const body = document.querySelector("#workers-table tbody");

function workerRow(worker) {
  const action = worker.active ? "block" : "unblock";
  const button = el("button", {
    type: "button",
    text: worker.active ? "Block" : "Unblock",
    "aria-label": `${worker.active ? "Block" : "Unblock"} ${worker.name}`,
    onclick: async () => {
      button.disabled = true;
      try {
        const changed = await api("POST", `/v1/workers/${encodeURIComponent(worker.id)}/${action}`);
        button.closest("tr").replaceWith(workerRow(changed));
        showDone(listStatus, `${changed.name} is ${changed.active ? "active" : "blocked"}.`);
      } catch (error) {
        button.disabled = false;
        failed(listStatus, `Could not ${action} ${worker.name}`)(error);
      }
    },
  });
  return el("tr", { "data-worker-id": worker.id },
    el("th", { scope: "row", text: worker.name }),
    el("td", { text: worker.role }),
    el("td", { text: worker.skills.join(", ") || "–" }),
    el("td", { class: worker.active ? "state-ok" : "state-bad", text: worker.active ? "active" : `blocked ${utcTime(worker.blocked_at)}` }),
    el("td", { text: utcTime(worker.created_at) }),
    el("td", {}, button),
  );
}

async function loadWorkers() {
  const workers = await allDocs("/v1/workers");
  body.replaceChildren(...workers.reverse().map(workerRow));
  listStatus.textContent = workers.length ? `${workers.length} workers, newest first.` : "No workers yet.";
  listStatus.className = "status";
}

async function create(event) {
  event.preventDefault();
  clearErrors(form);
  const value = (name) => form.elements.namedItem(name).value;
  const skills = value("skills").split(",").map((s) => s.trim()).filter(Boolean);
  try {
    const worker = await api("POST", "/v1/workers", { name: value("name").trim(), role: value("role"), skills });
    showDone(createStatus, `Added ${worker.name}.`);
    showSecret(document.getElementById("worker-secret"), `API key of ${worker.name} (they sign in with it)`, worker.key);
    form.reset();
    await loadWorkers();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showErrors(form, error, createStatus);
  }
}

form.addEventListener("submit", create);
loadWorkers().catch(failed(listStatus, "Could not load the workers"));
