// The annotator's workspace: one task at a time from the same queue as the API.
//
// - A reload resumes the leases the worker still holds, with the draft of each.
// - The next task is leased in the background while this one is worked on, so it shows
//   at once after a submit; the answer is sent meanwhile, and if the server refuses it
//   as invalid the page goes back to it with the errors.
// - Leases are heartbeated while the page is open; an ended lease is explained.
// - Active time (visible tab, recent input) is sent as the answer's duration_ms.

import { api, el } from "/static/js/api.js";
import { dropDraft, dropStaleDrafts, loadDraft, saveDraft } from "/static/js/drafts.js";
import { showInstructions } from "/static/js/instructions.js";
import { listenForShortcuts } from "/static/js/keys.js";
import { widgetFor } from "/static/js/kinds.js";
import { ActiveTimer, clock } from "/static/js/timer.js";
import { EMPTY_POLL_MS, leaseNext, openLeases, say, showErrors } from "/static/js/workspace.js";

const HEARTBEAT_MS = 30_000;

const $ = (id) => document.getElementById(id);
const root = $("widget");
const timer = new ActiveTimer((ms) => ($("timer").textContent = `active ${clock(ms)}`));
// queue: tasks leased ahead (prefetched), shown next; sending: assignments whose answer
// is on its way (the worker may already be on the next task).
const state = { current: null, widget: null, history: [], queue: [], fetching: null, sending: new Set() };

function leaseNotice(text) {
  $("lease-notice").hidden = !text;
  $("lease-notice").textContent = text || "";
}

function setButtons(enabled) {
  for (const id of ["submit", "skip"]) $(id).disabled = !enabled;
  $("undo").disabled = !enabled || state.history.length < 2;
}

async function take() {
  if (!state.queue.length && state.fetching) await state.fetching;
  if (state.queue.length) return state.queue.shift();
  return leaseNext();
}

// At the project's lease cap the server answers a lease the page already has (one whose
// answer is on its way, say); that is no task to queue.
function known(assignment) {
  const ids = [state.current?.id, ...state.queue.map((queued) => queued.id), ...state.sending];
  return ids.includes(assignment.id);
}

function prefetch() {
  if (state.queue.length || state.fetching || !state.current) return;
  state.fetching = leaseNext()
    .then((next) => next && !known(next) && state.queue.push(next))
    .catch(() => null)
    .finally(() => (state.fetching = null));
}

async function show(assignment) {
  state.widget?.destroy();
  state.widget = null;
  state.current = assignment;
  showErrors();
  leaseNotice("");
  if (!assignment) {
    root.dataset.state = "empty";
    root.dataset.taskId = "";
    root.replaceChildren(el("p", { text: "Nothing to label right now. This page checks again by itself." }));
    setButtons(false);
    setTimeout(() => !state.current && start(), EMPTY_POLL_MS);
    return;
  }
  const draft = loadDraft(assignment.id);
  const hypothesis = assignment.task.hypothesis ?? null;
  const initial = draft ? draft.value : hypothesis;
  $("prelabel-notice").hidden = !(hypothesis && !draft);
  $("project-name").textContent = assignment.project.kind;
  timer.reset(draft?.activeMs || 0);
  const widget = await widgetFor(assignment.project.kind);
  root.replaceChildren();
  state.history = [initial];
  state.widget = widget.mount(root, {
    task: assignment.task,
    project: assignment.project,
    value: initial,
    onChange: changed,
  });
  root.dataset.taskId = assignment.task.id;
  root.dataset.state = "ready";
  setButtons(true);
  say(draft ? "Your draft of this task is restored." : "");
  showInstructions($("instructions"), assignment.project).catch(() => null);
  prefetch();
}

function changed(value) {
  state.history.push(value);
  saveDraft(state.current.id, value, timer.ms);
  setButtons(true);
}

function undo() {
  if (state.history.length < 2) return;
  state.history.pop();
  const previous = state.history.at(-1);
  state.widget.set(previous);
  saveDraft(state.current.id, previous, timer.ms);
  setButtons(true);
  say("Undone.");
}

async function submit() {
  const assignment = state.current;
  if (!state.widget || state.sending.has(assignment.id)) return;
  const value = state.widget.value();
  if (value === null) {
    say("The answer is not complete yet.");
    return;
  }
  state.sending.add(assignment.id);
  saveDraft(assignment.id, value, timer.ms);
  const body = { response: value, duration_ms: Math.round(timer.ms) };
  const sending = api("POST", `/v1/assignments/${assignment.id}/submit`, body);
  try {
    if (state.queue.length) await show(state.queue.shift()); // at once, while it is sent
    await sending;
    dropDraft(assignment.id);
    if (state.current === assignment) await show(await take());
    else prefetch(); // its lease is over, so the next one can be leased now
  } catch (error) {
    await refused(assignment, error);
  } finally {
    state.sending.delete(assignment.id);
  }
}

async function refused(assignment, error) {
  if (error.status === 409 || error.status === 404) {
    dropDraft(assignment.id);
    if (state.current === assignment) await show(await take());
    leaseNotice(
      "Your last answer was not taken: its lease had ended and the task no longer needed it. " +
        "Leases end when a task stays open too long without this page.",
    );
    return;
  }
  if (state.current !== assignment) {
    if (state.current) state.queue.unshift(state.current); // comes back after this one
    await show(assignment);
  }
  showErrors(error.problem?.errors?.length ? error.problem.errors : [{ field: "answer", message: error.message }]);
  say("The answer was not accepted; see below.");
}

async function skip() {
  const assignment = state.current;
  if (!assignment || state.sending.has(assignment.id)) return;
  state.sending.add(assignment.id);
  try {
    await api("POST", `/v1/assignments/${assignment.id}/skip`);
  } catch {
    // an ended lease needs no skip
  }
  dropDraft(assignment.id);
  state.sending.delete(assignment.id);
  await show(await take());
  say("Skipped.");
}

async function heartbeat() {
  for (const assignment of [state.current, ...state.queue]) {
    if (!assignment) continue;
    try {
      const lease = await api("POST", `/v1/assignments/${assignment.id}/heartbeat`);
      assignment.expires_at = lease.expires_at;
    } catch (error) {
      if (assignment === state.current && (error.status === 409 || error.status === 404)) {
        leaseNotice(
          "This task's lease has ended (the page was away too long). Your draft is kept: " +
            "submit it, and it counts if the task still needs an answer.",
        );
      } else if (assignment !== state.current) {
        state.queue = state.queue.filter((queued) => queued !== assignment);
      }
    }
  }
}

async function start() {
  const open = await openLeases();
  state.queue = open.slice(1); // more open leases: tasks prefetched before a reload
  await show(open[0] || (await take()));
}

const dialog = $("shortcuts");
$("submit").addEventListener("click", submit);
$("skip").addEventListener("click", skip);
$("undo").addEventListener("click", undo);
$("help").addEventListener("click", () => dialog.showModal());
listenForShortcuts({
  shortcuts: { Enter: submit, s: skip, "Ctrl+z": undo, "?": () => dialog.showModal() },
  widget: () => state.widget,
  submit,
});
setInterval(heartbeat, HEARTBEAT_MS);
dropStaleDrafts();
start().catch((error) => say(`Could not load work: ${error.message}`));
