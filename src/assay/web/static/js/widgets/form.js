// Form: fill in the project's fields, one control each: text, number, choice (a list, or
// checkboxes when several may be picked), date, url. Required fields say so; a line
// below says what is still missing or malformed.

import { choices, el, field, keyValues, showItem, todoLine } from "./common.js";

export function mount(root, ctx) {
  const todo = todoLine();
  const changed = () => ctx.onChange(value());
  const controls = ctx.project.params.fields.map((spec) => control(spec, changed));
  root.append(showItem(ctx.task.params), ...controls.map((c) => c.node), todo.node);

  function value() {
    const values = {};
    const problems = [];
    for (const c of controls) {
      const given = c.get();
      const problem = given === null ? (c.spec.required ? "is required" : null) : problemOf(c.spec, given);
      if (problem) problems.push(`${c.spec.name} ${problem}`);
      else if (given !== null) values[c.spec.name] = given;
    }
    return todo.show(problems) ? { values } : null;
  }

  function set(answer) {
    for (const c of controls) c.set(answer?.values?.[c.spec.name] ?? null);
    value(); // shows what is missing
  }

  set(ctx.value);
  return { value, set, key: () => false, destroy: () => root.replaceChildren() };
}

export function describe(answer) {
  const shown = (value) => (Array.isArray(value) ? value.join(", ") : String(value));
  return keyValues(Object.entries(answer.values).map(([name, value]) => [name, shown(value)]));
}

/** One field's control: {spec, node, get() (null when not given), set(value)}. */
function control(spec, onChange) {
  if (spec.type === "choice" && spec.multiple) {
    const legend = `${spec.name}${spec.required ? " (required)" : ""}`;
    const group = choices({ legend, options: spec.options, multiple: true, onChange });
    return { spec, node: group.node, get: () => (group.get().length ? group.get() : null), set: group.set };
  }
  const input = inputFor(spec, onChange);
  const get = () => {
    if (input.value.trim() === "") return input.validity.badInput ? NaN : null;
    return spec.type === "number" ? Number(input.value) : input.value;
  };
  const set = (value) => (input.value = value ?? "");
  return { spec, node: field(spec.name, input, { required: spec.required }), get, set };
}

function inputFor(spec, onChange) {
  if (spec.type === "choice") {
    const options = ["", ...spec.options].map((o) => el("option", { value: o, text: o || "(none)" }));
    return el("select", { onchange: onChange }, options);
  }
  const { max_length: maxlength, min, max } = spec;
  const step = spec.type === "number" ? "any" : null;
  return el("input", { type: spec.type, oninput: onChange, maxlength, min, max, step }); // the types match HTML's
}

/** What is wrong with a given value, as the server checks it; null if nothing. */
function problemOf(spec, value) {
  if (spec.type === "number") {
    if (!Number.isFinite(value)) return "needs a number";
    if (value < (spec.min ?? -Infinity)) return `must be at least ${spec.min}`;
    if (value > (spec.max ?? Infinity)) return `must be at most ${spec.max}`;
  }
  if (spec.type === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(value)) return "needs a date";
  if (spec.type === "url" && !isWebAddress(value)) return "needs an http(s) address";
  return null;
}

function isWebAddress(text) {
  try {
    const url = new URL(text);
    return ["http:", "https:"].includes(url.protocol) && Boolean(url.hostname) && !/\s/.test(text);
  } catch {
    return false;
  }
}
