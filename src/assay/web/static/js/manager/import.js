// /projects/{id}/import: send a .jsonl (or .json array) file of tasks in chunks of
// CHUNK_LINES lines, each one request (and one transaction), with a progress bar; add up
// what was created, duplicate and rejected, and list rejected rows by their file line.

import { api, ApiError, el } from "/static/js/api.js";
import { setFigure } from "/static/js/manager/figures.js";
import { count } from "/static/js/manager/format.js";
import { clearErrors, failed, showDone, showErrors } from "/static/js/manager/forms.js";
import { allDocs } from "/static/js/manager/lists.js";

const CHUNK_LINES = 2000;
const SHOWN_ERRORS = 100; // in full; the rest are counted by field
const page = document.getElementById("import-page");
const projectPath = `/v1/projects/${encodeURIComponent(page.dataset.projectId)}`;
const form = document.getElementById("import");
const status = document.getElementById("import-status");
const progress = document.getElementById("import-progress");
const progressText = document.getElementById("progress-text");
const csrf = document.querySelector('meta[name="csrf-token"]').content;

function fileProblem(message) {
  return new ApiError(422, { errors: [{ field: "file", message }] });
}

// The file's rows as lines of JSON, numbered as the server will number them: a .jsonl
// file's own lines, or a .json array's items.
async function linesOf(file) {
  const text = await file.text();
  if (!file.name.toLowerCase().endsWith(".json")) {
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return lines;
  }
  let items;
  try {
    items = JSON.parse(text);
  } catch (error) {
    throw fileProblem(`not valid JSON: ${error.message}`);
  }
  if (!Array.isArray(items)) throw fileProblem("expected a JSON array of tasks");
  return items.map((item) => JSON.stringify(item));
}

// api() sends JSON; an import chunk goes up as the NDJSON text it is.
async function sendChunk(text, batch) {
  const query = batch ? `?batch=${encodeURIComponent(batch)}` : "";
  const response = await fetch(`${projectPath}/tasks:import${query}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-ndjson", Accept: "application/json", "X-CSRF-Token": csrf },
    body: text,
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function showReport(total) {
  document.getElementById("import-report").hidden = false;
  for (const key of ["created", "duplicate", "rejected"]) setFigure(key, total[key], count(total[key]));
  const rows = total.errors.slice(0, SHOWN_ERRORS).map((e) =>
    el("tr", {}, el("td", { text: String(e.line) }), el("td", { text: e.field }), el("td", { text: e.message })),
  );
  document.querySelector("#row-errors tbody").replaceChildren(...rows);
  const hidden = total.error_count - rows.length;
  const byField = Object.entries(total.errors_by_field).sort((a, b) => b[1] - a[1]);
  const fields = byField.map(([field, n]) => `${field} ${count(n)}`).join(", ");
  document.getElementById("more-errors").textContent = hidden > 0 ? `… and ${count(hidden)} more problems (by field: ${fields}).` : "";
}

async function upload(event) {
  event.preventDefault();
  clearErrors(form);
  const file = form.elements.namedItem("file").files[0];
  const batch = form.elements.namedItem("batch").value;
  try {
    if (!file) throw fileProblem("choose a .jsonl or .json file");
    const lines = await linesOf(file);
    if (!lines.length) throw fileProblem("the file has no tasks");
    const total = { created: 0, duplicate: 0, rejected: 0, errors: [], error_count: 0, errors_by_field: {} };
    progress.max = lines.length;
    progress.value = 0;
    for (let start = 0; start < lines.length; start += CHUNK_LINES) {
      const report = await sendChunk(lines.slice(start, start + CHUNK_LINES).join("\n"), batch);
      for (const key of ["created", "duplicate", "rejected", "error_count"]) total[key] += report[key];
      const kept = report.errors.slice(0, SHOWN_ERRORS - total.errors.length);
      total.errors.push(...kept.map((e) => ({ ...e, line: e.line + start })));
      for (const [field, n] of Object.entries(report.errors_by_field)) {
        total.errors_by_field[field] = (total.errors_by_field[field] ?? 0) + n;
      }
      progress.value = Math.min(start + CHUNK_LINES, lines.length);
      progressText.textContent = `${count(progress.value)} of ${count(lines.length)} lines sent.`;
      showReport(total);
    }
    showDone(status, `Imported ${file.name}.`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showErrors(form, error, status);
    if (progress.value) status.append(` Stopped after ${count(progress.value)} lines; sending the file again skips the tasks already created (with a unique_id).`);
  }
}

async function start() {
  const [project, batches] = await Promise.all([
    api("GET", projectPath),
    allDocs(`/v1/batches?project=${encodeURIComponent(page.dataset.projectId)}`),
  ]);
  document.getElementById("project-name").textContent = project.name;
  const staging = batches.filter((b) => b.status === "staging");
  form.elements.namedItem("batch").append(...staging.map((b) => el("option", { value: b.id, text: b.name })));
  form.addEventListener("submit", upload);
}

start().catch(failed(status, "Could not load the project"));
