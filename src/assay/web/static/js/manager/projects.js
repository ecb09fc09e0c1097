// /projects: every project with links to its pages, and the form that creates one.

import { api, ApiError, el } from "/static/js/api.js";
import { clearErrors, failed, showDone, showErrors } from "/static/js/manager/forms.js";
import { utcTime } from "/static/js/manager/format.js";
import { allDocs } from "/static/js/manager/lists.js";
import { showSecret } from "/static/js/manager/secret.js";

const form = document.getElementById("create-project");
const field = (name) => form.elements.namedItem(name);
const listStatus = document.getElementById("projects-status");
const createStatus = document.getElementById("create-status");
const kindHelp = document.getElementById("kind-help");
const paramsHelp = document.getElementById("params-help");
let kinds = new Map();

function projectRow(project) {
  const base = `/projects/${encodeURIComponent(project.id)}`;
  return el("tr", { "data-project-id": project.id },
    el("th", { scope: "row" }, el("a", { href: base, text: project.name })),
    el("td", { text: project.kind }),
    el("td", { text: String(project.overlap) }),
    el("td", { text: utcTime(project.created_at) }),
    el("td", {},
      el("div", { class: "row" },
        el("a", { href: base, text: "Dashboard" }),
        el("a", { href: `${base}/settings`, text: "Settings" }),
        el("a", { href: `${base}/import`, text: "Import" }),
      ),
    ),
  );
}

async function loadProjects() {
  const projects = await allDocs("/v1/projects");
  document.querySelector("#projects-table tbody").replaceChildren(...projects.reverse().map(projectRow));
  listStatus.textContent = projects.length ? `${projects.length} projects, newest first.` : "No projects yet: create the first one below.";
}

// What the kind's params are: their names, required ones marked.
function describeParams(schema) {
  const required = new Set(schema.required ?? []);
  const names = Object.keys(schema.properties ?? {}).map((n) => (required.has(n) ? `${n} (required)` : n));
  return names.length ? `Params: ${names.join(", ")}.` : "This kind takes no params: {}.";
}

function showKind() {
  const kind = kinds.get(field("kind").value);
  kindHelp.textContent = kind ? kind.summary : "";
  paramsHelp.textContent = kind ? describeParams(kind.params_schema) : "";
}

async function loadKinds() {
  const { items } = await api("GET", "/v1/kinds");
  kinds = new Map(items.map((k) => [k.name, k]));
  field("kind").replaceChildren(...items.map((k) => el("option", { value: k.name, text: k.name })));
  showKind();
}

function parsedParams() {
  try {
    return JSON.parse(field("params").value || "{}");
  } catch (error) {
    throw new ApiError(422, { errors: [{ field: "params", message: `not valid JSON: ${error.message}` }] });
  }
}

async function create(event) {
  event.preventDefault();
  clearErrors(form);
  try {
    const body = {
      name: field("name").value.trim(),
      kind: field("kind").value,
      params: parsedParams(),
      instructions: field("instructions").value,
    };
    const project = await api("POST", "/v1/projects", body);
    showDone(createStatus, `Created ${project.name}.`);
    createStatus.append(" ", el("a", { href: `/projects/${encodeURIComponent(project.id)}`, text: "Open its dashboard" }));
    showSecret(document.getElementById("created-secret"), "Callback secret (signs this project's callbacks)", project.callback_secret);
    field("name").value = "";
    await loadProjects();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showErrors(form, error, createStatus);
  }
}

field("kind").addEventListener("change", showKind);
form.addEventListener("submit", create);
loadKinds().catch(failed(createStatus, "Could not load the kinds"));
loadProjects().catch(failed(listStatus, "Could not load the projects"));
