// Rating: score the item on each criterion of the rubric (likert scales as radio buttons,
// numeric ones as number inputs), with a comment per criterion when the project takes
// them: always when "required", or at or below `comment_below` when "optional".

import { choices, el, field, keyValues, markRequired, showItem, todoLine } from "./common.js";

const EPSILON = 1e-9;

export function mount(root, ctx) {
  const params = ctx.project.params;
  const commenting = (params.comment ?? "optional") !== "none";
  const todo = todoLine();
  const rows = params.criteria.map((criterion) => criterionRow(criterion, commenting, changed));
  root.append(showItem(ctx.task.params), ...rows.map((row) => row.node), todo.node);

  function changed() {
    ctx.onChange(value());
  }

  function value() {
    const problems = [];
    const scores = {};
    const comments = {};
    for (const row of rows) {
      const { name, scale } = row.criterion;
      const score = row.score();
      const wanted = commenting && needsComment(params, scale, score);
      if (row.comment) markRequired(row.comment, wanted);
      if (score === null) problems.push(`score ${name}`);
      else if (!fits(scale, score)) problems.push(`give ${name} ${range(scale)}`);
      else scores[name] = score;
      const comment = row.comment?.value ?? "";
      if (comment.trim()) comments[name] = comment;
      else if (wanted) problems.push(`comment on ${name}`);
    }
    if (!todo.show(problems)) return null;
    return Object.keys(comments).length ? { scores, comments } : { scores };
  }

  function set(answer) {
    for (const row of rows) {
      const { name } = row.criterion;
      row.set(answer?.scores?.[name] ?? null, answer?.comments?.[name] ?? "");
    }
    value(); // shows what is missing
  }

  set(ctx.value);
  return { value, set, key: () => false, destroy: () => root.replaceChildren() };
}

export function describe(answer) {
  return keyValues(
    Object.entries(answer.scores).map(([name, score]) => {
      const comment = answer.comments?.[name];
      return [name, comment ? `${score}. Comment: ${comment}` : String(score)];
    }),
  );
}

/** One criterion's controls: {criterion, node, score(), comment (a textarea or null), set()}. */
function criterionRow(criterion, commenting, onChange) {
  const { name, scale } = criterion;
  const comment = commenting ? el("textarea", { rows: 2, oninput: onChange }) : null;
  let control;
  if (scale.type === "likert") {
    const group = choices({ legend: name, options: scale.labels, onChange });
    control = { node: group.node, score: group.get, set: group.set };
  } else {
    const bounds = { min: scale.min, max: scale.max, step: scale.step ?? "any" };
    const input = el("input", { type: "number", ...bounds, oninput: onChange });
    control = {
      node: field(`${name} (${range(scale)})`, input),
      score: () => (input.value === "" ? null : Number(input.value)),
      set: (score) => (input.value = score ?? ""),
    };
  }
  return {
    criterion,
    node: el("div", { class: "w-criterion" }, control.node, comment && field(`Comment on ${name}`, comment)),
    score: control.score,
    comment,
    set(score, text) {
      control.set(score);
      if (comment) comment.value = text;
    },
  };
}

function range(scale) {
  return `from ${scale.min} to ${scale.max}${scale.step ? ` in steps of ${scale.step}` : ""}`;
}

/** Whether a score is on its scale, as the server checks it. */
function fits(scale, score) {
  if (scale.type === "likert") return scale.labels.includes(score);
  if (!Number.isFinite(score) || score < scale.min || score > scale.max) return false;
  const steps = scale.step ? (score - scale.min) / scale.step : 0;
  return Math.abs(steps - Math.round(steps)) <= EPSILON;
}

/** Whether the project wants a comment on this score (see the module comment). */
function needsComment(params, scale, score) {
  const threshold = params.comment_below;
  if (params.comment === "required") return true;
  if (threshold === null || threshold === undefined || score === null) return false;
  if (scale.type === "likert") {
    return typeof threshold === "string" && scale.labels.indexOf(score) <= scale.labels.indexOf(threshold);
  }
  return typeof threshold === "number" && score <= threshold;
}
