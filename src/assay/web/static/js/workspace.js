// What the labelling and review pages share: the status line, the list of field errors,
// and the queue they work from (`?project=ID` keeps to one project; without it, work
// comes from every project open to the worker).

import { api, el } from "/static/js/api.js";

export const EMPTY_POLL_MS = 20_000;
const onlyProject = new URLSearchParams(location.search).get("project");

export function say(text) {
  document.getElementById("status").textContent = text;
}

export function showErrors(errors = []) {
  const items = errors.map((e) => el("li", { text: `${e.field}: ${e.message}` }));
  document.getElementById("errors").replaceChildren(...items);
}

export function leaseNext(stage = "label") {
  const path = stage === "label" ? "/v1/work/next" : `/v1/work/next?stage=${stage}`;
  return api("POST", path, onlyProject ? { project: onlyProject } : {});
}

export async function openLeases(stage = "label") {
  const path = stage === "label" ? "/v1/work/current" : `/v1/work/current?stage=${stage}`;
  const { items } = await api("GET", path);
  return items.filter((lease) => !onlyProject || lease.project.id === onlyProject);
}
