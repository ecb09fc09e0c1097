// The dashboard's charts from its figures: progress by batch, completions per hour and
// the distribution of results. Each draws into its slot, or says why there is nothing.

import { el } from "/static/js/api.js";
import { barChart, lineChart } from "/static/js/charts.js";
import { count, percent } from "/static/js/manager/format.js";

const HOUR_MS = 3_600_000;
const MAX_FILLED_HOURS = 24 * 90;

function place(slot, data, draw, empty) {
  slot.replaceChildren(data.length ? draw(data) : el("p", { class: "muted", text: empty }));
}

export function drawProgress(slot, batches, names) {
  const bars = batches.map((b) => ({
    label: names(b),
    value: b.total ? (100 * b.counts.completed) / b.total : 0,
    text: `${count(b.counts.completed)} of ${count(b.total)} completed (${percent(b.counts.completed, b.total)})`,
  }));
  const title = "Completed tasks by batch";
  const draw = () => barChart({ title, xLabel: "completed (% of the batch's tasks)", bars, max: 100 });
  place(slot, bars, draw, "No tasks yet.");
}

// Completions per hour, with the hours between that saw none drawn as zeros.
function hourly(throughput) {
  const points = throughput.map((h) => ({ x: Date.parse(`${h.hour}:00:00Z`), y: h.completed }));
  if (points.length < 2 || (points.at(-1).x - points[0].x) / HOUR_MS > MAX_FILLED_HOURS) return points;
  const seen = new Map(points.map((p) => [p.x, p.y]));
  const filled = [];
  for (let x = points[0].x; x <= points.at(-1).x; x += HOUR_MS) filled.push({ x, y: seen.get(x) ?? 0 });
  return filled;
}

const hourLabel = (ms) => `${new Date(ms).toISOString().slice(5, 13).replace("T", " ")}h`;

export function drawThroughput(slot, throughput) {
  const draw = (points) => lineChart({
    title: "Tasks completed per hour",
    xLabel: "hour (UTC, month-day hour)",
    yLabel: "tasks completed",
    points,
    formatX: hourLabel,
  });
  place(slot, hourly(throughput), draw, "No completions in this range.");
}

export function drawLabels(slot, labels) {
  const total = labels.reduce((sum, l) => sum + l.count, 0);
  const bars = labels.map((l) => ({ label: l.label, value: l.count, text: `${count(l.count)} (${percent(l.count, total)})` }));
  const draw = () => barChart({ title: "Completed results by label", xLabel: "completed tasks", bars });
  place(slot, bars, draw, "No categorical results in this range.");
}
