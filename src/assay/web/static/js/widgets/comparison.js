// Comparison: read k responses to a prompt side by side and pick the better one (digits
// 1..k, and the next digit for a tie when the project allows ties), how strongly
// (Shift+1..4, when the project asks), the better one per criterion, and why.
// Responses are shown blind: model names stay hidden.

import { choices, digitOf, el, field, keyValues, showItem, titledText, todoLine } from "./common.js";

const STRENGTHS = ["slight", "moderate", "strong", "decisive"];
const TIE = "tie";

const responseName = (choice) => (choice === TIE ? "Tie" : `Response ${choice + 1}`);

export function mount(root, ctx) {
  const params = ctx.project.params;
  const task = ctx.task.params;
  const options = task.responses.map((_, i) => ({ value: i, text: responseName(i) }));
  if (params.allow_tie) options.push({ value: TIE, text: responseName(TIE) });
  const changed = () => {
    strength?.disable(preferred.get() === TIE);
    ctx.onChange(value());
  };
  const preferred = choices({ legend: "Which response is better?", options, keys: true, onChange: changed });
  const strength = params.strength
    ? choices({
        legend: "How much better?",
        options: STRENGTHS.map((text, i) => ({ value: i + 1, text: `${i + 1} ${text}` })),
        keys: true,
        shift: true,
        onChange: changed,
      })
    : null;
  const criteria = (params.criteria ?? []).map((name) => ({
    name,
    group: choices({ legend: `Better on ${name}`, options, onChange: changed }),
  }));
  const rationale = el("textarea", { rows: 3, oninput: changed });
  const todo = todoLine();
  const side = el("div", { class: "w-side" }, task.responses.map((text, i) => titledText(responseName(i), text)));
  const groups = [preferred, strength, ...criteria.map((c) => c.group)].filter(Boolean);
  root.append(
    titledText("Prompt", task.prompt),
    showItem(task, ["prompt", "responses", "models"]),
    side,
    ...groups.map((group) => group.node),
    field("Why?", rationale, { required: Boolean(params.require_rationale) }),
    todo.node,
  );

  function value() {
    const choice = preferred.get();
    const answer = { preferred: choice };
    if (strength && choice !== TIE) answer.strength = strength.get();
    const picked = criteria.filter((c) => c.group.get() !== null);
    if (picked.length) answer.criteria = Object.fromEntries(picked.map((c) => [c.name, c.group.get()]));
    if (rationale.value.trim()) answer.rationale = rationale.value;
    const problems = [
      choice === null ? "pick the better response" : null,
      answer.strength === null ? "say how much better" : null,
      params.require_rationale && !answer.rationale ? "say why" : null,
    ];
    return todo.show(problems.filter(Boolean)) ? answer : null;
  }

  function set(answer) {
    preferred.set(answer?.preferred ?? null);
    strength?.set(answer?.strength ?? null);
    strength?.disable(preferred.get() === TIE);
    for (const c of criteria) c.group.set(answer?.criteria?.[c.name] ?? null);
    rationale.value = answer?.rationale ?? "";
    value(); // shows what is missing
  }

  function key(event) {
    const i = digitOf(event);
    return event.shiftKey ? Boolean(strength?.pick(i)) : preferred.pick(i);
  }

  set(ctx.value);
  return { value, set, key, destroy: () => root.replaceChildren() };
}

export function describe(answer) {
  const strength = answer.strength ? ` (${STRENGTHS[answer.strength - 1]}, ${answer.strength} of 4)` : "";
  const pairs = [["Preferred", responseName(answer.preferred) + strength]];
  for (const [name, choice] of Object.entries(answer.criteria ?? {})) {
    pairs.push([`Better on ${name}`, responseName(choice)]);
  }
  if (answer.rationale) pairs.push(["Why", answer.rationale]);
  return keyValues(pairs);
}
