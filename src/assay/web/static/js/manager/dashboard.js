// /projects/{id}: the project's figures, charts and least sure results, filtered by
// batch and completion dates (kept in the page's query string), and its export links.

import { api, ApiError, el } from "/static/js/api.js";
import { drawLabels, drawProgress, drawThroughput } from "/static/js/manager/dashboard-charts.js";
import { showQuality } from "/static/js/manager/dashboard-quality.js";
import { setFigure } from "/static/js/manager/figures.js";
import { count, duration, durationMs, percent, share } from "/static/js/manager/format.js";
import { clearErrors, failed, showErrors } from "/static/js/manager/forms.js";
import { allDocs } from "/static/js/manager/lists.js";

const root = document.getElementById("dashboard");
const projectId = root.dataset.projectId;
const projectPath = `/v1/projects/${encodeURIComponent(projectId)}`;
const filters = document.getElementById("filters");
const status = document.getElementById("dashboard-status");
const STORED_FORMATS = ["jsonl", "csv", "parquet"];

function showFigures(board) {
  for (const key of ["total", "answers", "workers_active", "answers_last_hour", "remaining_answers"]) {
    setFigure(key, board[key], count(board[key]));
  }
  for (const key of ["completed", "pending", "in_review", "canceled"]) {
    setFigure(key, board.counts[key], count(board.counts[key]));
  }
  setFigure("mean_answer", board.mean_answer_ms, durationMs(board.mean_answer_ms));
  const left = board.eta_seconds === 0 ? "done" : board.eta_seconds === null ? "unknown (no recent answers)" : duration(board.eta_seconds);
  setFigure("eta", board.eta_seconds, left);
}

const batchName = (batch) => batch.name ?? "No batch";

function progressRow(batch) {
  const c = batch.counts;
  const cells = [batch.total, c.pending, c.in_review, c.completed, c.canceled, c.error];
  return el("tr", { "data-batch": batch.batch ?? "" },
    el("th", { scope: "row", text: batchName(batch) }),
    cells.map((n) => el("td", { text: count(n) })),
    el("td", { text: percent(c.completed, batch.total) }),
  );
}

function lowestRow(task) {
  return el("tr", {},
    el("td", {}, el("a", { href: task.url, text: task.task })),
    el("td", { text: share(task.confidence) }),
  );
}

function render(board) {
  showFigures(board);
  document.querySelector("#progress-table tbody").replaceChildren(...board.batches.map(progressRow));
  drawProgress(document.getElementById("progress-chart"), board.batches, batchName);
  drawThroughput(document.getElementById("throughput-chart"), board.throughput);
  drawLabels(document.getElementById("labels-chart"), board.labels);
  const lowest = board.lowest_confidence.map(lowestRow);
  document.querySelector("#lowest-table tbody").replaceChildren(
    ...(lowest.length ? lowest : [el("tr", {}, el("td", { colspan: 2, class: "muted", text: "No completed results in this range." }))]),
  );
}

const FILTERS = ["batch", "since", "until"];
const filterValue = (name) => filters.elements.namedItem(name).value;

// The filters as chosen; the page's address keeps them.
function chosenFilters() {
  return new URLSearchParams(FILTERS.filter(filterValue).map((name) => [name, filterValue(name)]));
}

// The same filters as the API's query: the "to" date is inclusive, `until` is not.
function apiQuery(chosen) {
  const params = new URLSearchParams(chosen);
  if (chosen.has("until")) {
    const next = new Date(`${chosen.get("until")}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    params.set("until", next.toISOString().slice(0, 10));
  }
  return params;
}

function restoreFilters() {
  const shown = new URLSearchParams(location.search);
  for (const name of FILTERS) filters.elements.namedItem(name).value = shown.get(name) ?? "";
}

function showExports(kind) {
  const batch = filterValue("batch");
  const formats = [...STORED_FORMATS, ...kind.exports];
  document.getElementById("exports").replaceChildren(
    ...formats.map((format) => {
      const params = new URLSearchParams({ format });
      if (batch) params.set("batch", batch);
      return el("li", {}, el("a", { class: "button", href: `${projectPath}/export?${params}`, download: "", text: format }));
    }),
  );
}

async function refresh(kind) {
  clearErrors(filters);
  root.setAttribute("aria-busy", "true");
  const chosen = chosenFilters();
  history.replaceState(null, "", chosen.toString() ? `?${chosen}` : location.pathname);
  try {
    render(await api("GET", `${projectPath}/dashboard?${apiQuery(chosen)}`));
    status.textContent = "";
    status.className = "status";
    root.dataset.state = "ready";
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showErrors(filters, error, status);
  }
  root.setAttribute("aria-busy", "false");
  showExports(kind);
}

async function start() {
  const project = await api("GET", projectPath);
  document.getElementById("project-name").textContent = project.name;
  document.title = `${project.name} · assay`;
  document.getElementById("project-kind").textContent = `${project.kind} · overlap ${project.overlap}`;
  const [kind, batches] = await Promise.all([
    api("GET", `/v1/kinds/${encodeURIComponent(project.kind)}`),
    allDocs(`/v1/batches?project=${encodeURIComponent(projectId)}`),
  ]);
  const options = batches.map((b) => el("option", { value: b.id, text: `${b.name} (${b.status})` }));
  filters.elements.namedItem("batch").append(...options);
  restoreFilters();
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    refresh(kind);
  });
  document.getElementById("clear-filters").addEventListener("click", () => {
    filters.reset();
    refresh(kind);
  });
  await refresh(kind);
  showQuality(projectPath);
}

start().catch((error) => {
  failed(status, error.status === 404 ? "This project does not exist" : "Could not load the dashboard")(error);
  root.setAttribute("aria-busy", "false");
});
