// /projects/{id}/settings: change the project's overlap, gold, adaptive overlap, review,
// callback and instructions. Only the settings that changed are sent (PATCH); errors are
// shown by field. The callback secret can be replaced; the new one is shown once.

import { api, ApiError } from "/static/js/api.js";
import { clearErrors, failed, showDone, showErrors } from "/static/js/manager/forms.js";
import { showSecret } from "/static/js/manager/secret.js";

const projectPath = `/v1/projects/${encodeURIComponent(document.getElementById("settings-page").dataset.projectId)}`;
const form = document.getElementById("settings");
const status = document.getElementById("settings-status");
// Settings that must keep a value: left empty, they stay as they are.
const REQUIRED = new Set(["overlap", "gold_rate"]);
const SETTINGS = ["overlap", "gold_rate", "target_confidence", "max_overlap", "review_rate", "review_below", "callback_url", "instructions"];
let current = null;

const input = (name) => form.elements.namedItem(name);

function valueOf(name) {
  const { type, value } = input(name);
  if (type === "textarea") return value;
  if (value.trim() === "") return null;
  return type === "number" ? Number(value) : value.trim();
}

function fill(project) {
  current = project;
  document.getElementById("project-name").textContent = project.name;
  document.title = `Settings of ${project.name} · assay`;
  for (const name of SETTINGS) input(name).value = project[name] ?? "";
}

function changes() {
  const changed = {};
  for (const name of SETTINGS) {
    const value = valueOf(name);
    if (value === (current[name] ?? null) || (value === null && REQUIRED.has(name))) continue;
    changed[name] = value;
  }
  return changed;
}

async function save(event) {
  event.preventDefault();
  clearErrors(form);
  const changed = changes();
  if (!Object.keys(changed).length) {
    showDone(status, "Nothing changed.");
    return;
  }
  try {
    fill(await api("PATCH", projectPath, changed));
    showDone(status, `Saved: ${Object.keys(changed).join(", ")}.`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showErrors(form, error, status);
  }
}

async function rotateSecret() {
  try {
    const { callback_secret: secret } = await api("POST", `${projectPath}/callback_secret:rotate`);
    showSecret(document.getElementById("rotated-secret"), "New callback secret (signs every callback from now on)", secret);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showErrors(form, error, status);
  }
}

form.addEventListener("submit", save);
document.getElementById("rotate-secret").addEventListener("click", rotateSecret);
api("GET", projectPath)
  .then((project) => {
    fill(project);
    status.textContent = "";
  })
  .catch(failed(status, "Could not load the project"));
