// A worker's own figures: tasks done, active time, and accuracy on gold as a number only.

import { api } from "/static/js/api.js";
import { clock } from "/static/js/timer.js";

const $ = (id) => document.getElementById(id);
const stats = await api("GET", "/v1/me/stats");
$("answers").textContent = stats.answers;
$("active").textContent = clock(stats.active_ms);
$("mean").textContent = stats.mean_duration_ms === null ? "–" : clock(stats.mean_duration_ms);
const gold = stats.gold;
$("accuracy").textContent = gold.accuracy === null ? "not measured yet" : `${Math.round(gold.accuracy * 100)} %`;
if (gold.accuracy !== null) {
  const [low, high] = gold.ci95.map((x) => Math.round(x * 100));
  const checks = gold.answered === 1 ? "1 check" : `${gold.answered} checks`;
  $("accuracy-detail").textContent = `on ${checks} (95% interval ${low}–${high} %)`;
}
