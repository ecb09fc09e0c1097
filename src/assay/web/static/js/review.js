// The reviewer's workspace: a result waiting for review, the answers it came from, and
// the verdict: accept (A), fix (F: the edited result is delivered instead) or reject (R:
// with a reason; the task goes back to be labelled again).

import { api, el } from "/static/js/api.js";
import { showInstructions } from "/static/js/instructions.js";
import { listenForShortcuts } from "/static/js/keys.js";
import { widgetFor } from "/static/js/kinds.js";
import { ActiveTimer, clock } from "/static/js/timer.js";
import { EMPTY_POLL_MS, leaseNext, openLeases, say, showErrors } from "/static/js/workspace.js";

const $ = (id) => document.getElementById(id);
const root = $("widget");
const controls = ["accept", "fix", "reject", "reason"];
const state = { current: null, widget: null, busy: false };
new ActiveTimer((ms) => ($("timer").textContent = `active ${clock(ms)}`));

async function show(assignment) {
  state.widget?.destroy();
  state.widget = null;
  state.current = assignment;
  showErrors();
  for (const id of controls) $(id).disabled = !assignment;
  $("reason").value = "";
  if (!assignment) {
    root.dataset.state = "empty";
    root.replaceChildren(el("p", { text: "Nothing to review right now. This page checks again by itself." }));
    $("answers").replaceChildren();
    $("confidence").textContent = "";
    setTimeout(() => !state.current && start(), EMPTY_POLL_MS);
    return;
  }
  const widget = await widgetFor(assignment.project.kind);
  const ctx = { task: assignment.task, project: assignment.project };
  root.replaceChildren();
  state.widget = widget.mount(root, { ...ctx, value: assignment.result, onChange: () => null });
  root.dataset.taskId = assignment.task.id;
  root.dataset.state = "ready";
  $("project-name").textContent = assignment.project.kind;
  $("confidence").textContent = `(confidence ${Number(assignment.result.confidence).toFixed(2)})`;
  $("answers").replaceChildren(
    ...assignment.answers.map((answer) => el("li", { class: "card" }, widget.describe(answer, ctx))),
  );
  showInstructions($("instructions"), assignment.project).catch(() => null);
}

async function verdict(kind) {
  if (state.busy || !state.current) return;
  const body = { verdict: kind };
  if (kind === "fix") {
    body.response = state.widget.value();
    if (body.response === null) return say("The fixed result is not complete yet.");
  }
  if (kind === "reject") {
    body.reason = $("reason").value.trim() || null;
  }
  state.busy = true;
  try {
    await api("POST", `/v1/assignments/${state.current.id}/review`, body);
    say({ accept: "Accepted.", fix: "Fixed and delivered.", reject: "Rejected: sent back for labelling." }[kind]);
    await show(await leaseNext("review"));
  } catch (error) {
    showErrors(error.problem?.errors?.length ? error.problem.errors : [{ field: "review", message: error.message }]);
  } finally {
    state.busy = false;
  }
}

async function start() {
  const open = await openLeases("review");
  await show(open[0] || (await leaseNext("review")));
}

$("accept").addEventListener("click", () => verdict("accept"));
$("fix").addEventListener("click", () => verdict("fix"));
$("reject").addEventListener("click", () => verdict("reject"));
$("reason").addEventListener("keydown", (event) => {
  if (event.key === "Enter") verdict("reject");
});
listenForShortcuts({
  shortcuts: {
    a: () => verdict("accept"),
    f: () => verdict("fix"),
    r: () => $("reason").focus(),
  },
  widget: () => state.widget,
  submit: () => verdict("accept"),
});
start().catch((error) => say(`Could not load reviews: ${error.message}`));
