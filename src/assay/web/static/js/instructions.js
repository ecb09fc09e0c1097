// A project's instructions as safe HTML: the server renders and sanitizes the Markdown
// (the page never turns project text into markup itself). One request per project.

import { api } from "/static/js/api.js";

const rendered = new Map();

export async function showInstructions(target, project) {
  if (!rendered.has(project.id)) {
    rendered.set(project.id, api("POST", "/web/markdown", { text: project.instructions || "" }));
  }
  const { html } = await rendered.get(project.id);
  target.innerHTML = html || "<p>No instructions for this project.</p>";
}
