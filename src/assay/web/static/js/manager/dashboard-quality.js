// The dashboard's quality section: agreement between workers and each worker's scores
// (GET /v1/projects/{id}/quality), and a scatter of each worker's speed (mean answer time,
// from their stats) against their accuracy (on gold when they answered gold, else the
// model-based quality).

import { api, el } from "/static/js/api.js";
import { scatterChart } from "/static/js/charts.js";
import { count, durationMs, share } from "/static/js/manager/format.js";
import { setFigure } from "/static/js/manager/figures.js";
import { failed } from "/static/js/manager/forms.js";
import { allDocs } from "/static/js/manager/lists.js";

const LEGEND = { circle: "accuracy on gold", square: "model-based quality" };

// A value with its 95% interval when it has one: "0.62 [0.41, 0.80]".
function showInterval(key, interval) {
  const value = interval?.value ?? null;
  const [low, high] = interval?.ci95 ?? [null, null];
  const range = low === null || high === null ? "" : ` [${share(low)}, ${share(high)}]`;
  setFigure(key, value, value === null ? "–" : `${share(value)}${range}`);
}

function showAgreement(report) {
  showInterval("alpha", report.agreement?.krippendorff_alpha);
  showInterval("kappa", report.agreement?.fleiss_kappa);
  showInterval("kind-agreement", report.kind_agreement);
  if (report.kind_agreement) document.getElementById("kind-measure").textContent = `Kind agreement (${report.kind_agreement.measure})`;
  setFigure("method", report.method, report.method ?? "the kind's own");
}

// Where a worker sits on the scatter, if both figures are known.
function point(worker, stats, name) {
  const gold = worker.gold.answered > 0;
  const accuracy = gold ? worker.gold.accuracy : worker.model_quality;
  if (accuracy === null || stats.mean_duration_ms === null) return null;
  return { x: stats.mean_duration_ms / 1000, y: accuracy, label: name, shape: gold ? "circle" : "square" };
}

function workerRow(worker, stats, name) {
  const gold = worker.gold;
  return el("tr", { "data-worker": worker.worker },
    el("th", { scope: "row", title: worker.worker, text: name }),
    el("td", { text: count(worker.answers) }),
    el("td", { text: share(worker.agreement) }),
    el("td", { text: share(worker.model_quality) }),
    el("td", { text: gold.answered ? `${share(gold.accuracy)} (${gold.correct} of ${gold.answered})` : "–" }),
    el("td", { text: durationMs(stats.mean_duration_ms) }),
  );
}

function drawScatter(points) {
  const slot = document.getElementById("quality-chart");
  if (!points.length) {
    slot.replaceChildren(el("p", { class: "muted", text: "No worker has both a mean answer time and an accuracy yet." }));
    return;
  }
  slot.replaceChildren(scatterChart({
    title: "Speed and accuracy of each worker",
    xLabel: "mean answer time (seconds, over all their answers)",
    yLabel: "accuracy",
    points,
    legend: LEGEND,
    formatX: (s) => `${share(s, 1)} s`,
    formatY: (y) => share(y),
  }));
}

export async function showQuality(projectPath) {
  const section = document.getElementById("quality");
  const status = document.getElementById("quality-status");
  try {
    const [report, workers] = await Promise.all([api("GET", `${projectPath}/quality`), allDocs("/v1/workers")]);
    const names = new Map(workers.map((w) => [w.id, w.name]));
    const stats = await Promise.all(report.workers.map((w) => api("GET", `/v1/workers/${encodeURIComponent(w.worker)}/stats`)));
    showAgreement(report);
    const named = report.workers.map((w, i) => [w, stats[i], names.get(w.worker) ?? w.worker]);
    document.querySelector("#workers-table tbody").replaceChildren(...named.map((args) => workerRow(...args)));
    drawScatter(named.map((args) => point(...args)).filter(Boolean));
    status.textContent = `${count(report.answers)} answers on ${count(report.tasks)} tasks.`;
    section.dataset.state = "ready";
  } catch (error) {
    failed(status, "Could not load the quality report")(error);
  }
  section.setAttribute("aria-busy", "false");
}
