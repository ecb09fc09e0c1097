// What the widgets share: showing a task's item, labelled controls, groups of choices
// with digit shortcuts, free-text answers with a length count, read-only lists.
// Task data only ever goes into the page as text or attribute values, never as HTML.

import { el } from "/static/js/api.js";

export { el };

let lastId = 0;

/** A page-unique id, for linking labels and hints to their controls. */
export function uid(prefix = "w") {
  lastId += 1;
  return `${prefix}-${lastId}`;
}

// The item

const MEDIA = new Set(["text", "image", "audio"]);

/** The item as it comes: `text` as text, `image` as an image, `audio` as a player and
 *  any other key (except those in `skip`) as a key/value list. */
export function showItem(params = {}, skip = []) {
  const shown = (key) => key in params && !skip.includes(key);
  const rest = Object.entries(params).filter(([key]) => !MEDIA.has(key) && !skip.includes(key));
  const recording = { class: "w-media", src: params.audio, controls: true, "aria-label": "The item's recording" };
  return el(
    "section",
    { class: "w-item", "aria-label": "Item" },
    shown("text") ? el("div", { class: "item", text: String(params.text) }) : null,
    shown("image") ? el("img", { class: "w-media", src: params.image, alt: "The item's image" }) : null,
    shown("audio") ? el("audio", recording) : null,
    rest.length ? keyValues(rest) : null,
  );
}

/** A read-only list of [name, value] pairs; values that are not strings are shown as JSON,
 *  and http(s) addresses as links. */
export function keyValues(pairs) {
  const rows = pairs.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", {}, shownValue(value))]);
  return el("dl", { class: "w-dl" }, rows);
}

function shownValue(value) {
  if (typeof value === "string" && /^https?:\/\/\S+$/.test(value)) {
    return el("a", { href: value, target: "_blank", rel: "noopener noreferrer", text: value });
  }
  if (typeof value === "string") return el("span", { class: "w-text", text: value });
  return el("pre", { class: "w-json", text: JSON.stringify(value, null, 2) });
}

/** A titled block of text (a prompt, a system prompt, a response). */
export function titledText(title, text) {
  return el("section", { class: "w-block" }, el("h3", { text: title }), el("div", { class: "item", text }));
}

// Controls

/** A button; Enter presses it rather than submitting the page (see keys.js). */
export function button(content, onclick, attrs = {}) {
  return el("button", { type: "button", "data-native-enter": true, onclick, ...attrs }, content);
}

/** A control with its visible label (linked by id); `required` marks it in words too. */
export function field(text, control, { required = false, extra = null } = {}) {
  control.id ||= uid("field");
  const mark = el("span", { class: "w-required", text: " (required)" });
  const node = el("div", { class: "w-field" }, el("label", { for: control.id }, text, mark), control, extra);
  markRequired(control, required);
  return node;
}

/** Mark a control made by `field` as required or not, for sight and for assistive tools. */
export function markRequired(control, required) {
  if (required) control.setAttribute("aria-required", "true");
  else control.removeAttribute("aria-required");
  control.closest(".w-field").querySelector(".w-required").hidden = !required;
}

/** The option index a digit key picks: 1..9 the first nine, 0 the tenth, -1 for any other
 *  key. Reads the physical key, so Shift+digit reads as the digit on every layout. */
export function digitOf(event) {
  const match = /^(?:Digit|Numpad)(\d)$/.exec(event.code || "");
  if (!match || event.ctrlKey || event.metaKey || event.altKey) return -1;
  return (Number(match[1]) + 9) % 10;
}

/** The key that picks option i (see digitOf), or null past the tenth. */
export function digitName(i, shift = false) {
  if (i > 9) return null;
  return (shift ? "Shift+" : "") + String((i + 1) % 10);
}

/**
 * A group of radio buttons (checkboxes when `multiple`) under a legend. Options are
 * strings or {value, text}; `keys` shows each option's digit (Shift+digit with `shift`).
 * onChange runs when the worker changes the choice, not on set().
 */
export function choices({ legend, options, multiple = false, keys = false, shift = false, onChange }) {
  const items = options.map((o) => (typeof o === "string" ? { value: o, text: o } : o));
  const type = multiple ? "checkbox" : "radio";
  const name = uid("choice");
  const inputs = items.map((_, i) => el("input", { type, name, value: String(i), onchange: () => onChange?.() }));
  const shortcut = (i) => (keys && digitName(i, shift) ? el("kbd", { text: digitName(i, shift) }) : null);
  const labels = items.map((item, i) =>
    el("label", { class: "w-choice" }, inputs[i], el("span", { text: item.text }), shortcut(i)),
  );
  const node = el("fieldset", { class: "w-choices" }, el("legend", { text: legend }), labels);
  const checked = () => items.filter((_, i) => inputs[i].checked).map((item) => item.value);
  return {
    node,
    get: () => (multiple ? checked() : (checked()[0] ?? null)),
    set(value) {
      const wanted = multiple ? value || [] : [value];
      items.forEach((item, i) => (inputs[i].checked = wanted.includes(item.value)));
    },
    /** Pick (or, when multiple, toggle) option i as the worker did; false if there is none. */
    pick(i) {
      const input = inputs[i];
      if (!input || input.matches(":disabled")) return false;
      input.checked = multiple ? !input.checked : true;
      onChange?.();
      return true;
    },
    disable(flag) {
      node.disabled = flag;
    },
  };
}

/** The colour class of a label (one of eight, by its place in the project's labels);
 *  colour only ever adds to the label's name shown beside it. */
export function colourOf(labels, label) {
  return `w-c${Math.max(0, labels.indexOf(label)) % 8}`;
}

// Free text

/** Characters of a text as the server counts them: code points, surrounding whitespace
 *  stripped. */
export function textLength(text) {
  return [...text.trim()].length;
}

/** A textarea with a live count of its characters against the bounds:
 *  {node, text(), set(text), fits()}. */
export function textAnswer({ label, min = 0, max = null, rows = 6, onInput }) {
  const textarea = el("textarea", { rows, spellcheck: "true" });
  const count = el("p", { class: "w-count", id: uid("count") });
  textarea.setAttribute("aria-describedby", count.id);
  const bounds = [min > 0 ? `at least ${min}` : null, max !== null ? `at most ${max}` : null].filter(Boolean);
  const fits = () => {
    const n = textLength(textarea.value);
    return n >= min && (max === null || n <= max);
  };
  const update = () => {
    const n = textLength(textarea.value);
    const problem = fits() ? "" : n < min ? " (too short)" : " (too long)";
    count.textContent = `${n} characters${bounds.length ? `; ${bounds.join(", ")}` : ""}${problem}`;
    count.classList.toggle("w-bad", Boolean(problem));
  };
  textarea.addEventListener("input", () => {
    update();
    onInput?.();
  });
  return {
    node: field(label, textarea, { extra: count }),
    text: () => textarea.value,
    set(text) {
      textarea.value = text;
      update();
    },
    fits,
  };
}

/**
 * A whole free-text widget: `before` (nodes shown above), then a textarea starting from
 * `start`; the answer is {text} while the length fits the bounds, else null.
 */
export function mountText(root, ctx, { before, label, min, max, rows, start = "" }) {
  const answer = textAnswer({ label, min, max, rows, onInput: () => ctx.onChange(value()) });
  root.append(...before.filter(Boolean), answer.node);
  const value = () => (answer.fits() ? { text: answer.text() } : null);
  const set = (v) => answer.set(v?.text ?? start);
  set(ctx.value);
  return { value, set, key: () => false, destroy: () => root.replaceChildren() };
}

/** A read-only free-text answer. */
export function describeText(answer) {
  return el("div", { class: "item w-answer", text: answer.text });
}

// Messages

/** A line saying what is still missing before the answer is complete. */
export function todoLine() {
  const node = el("p", { class: "w-todo" });
  return {
    node,
    /** Show the problems; true when there are none. */
    show(problems) {
      node.textContent = problems.length ? `To finish: ${problems.join("; ")}.` : "Complete.";
      return problems.length === 0;
    },
  };
}

/** A polite live region for short messages ("not tagged: it overlaps ..."). */
export function statusLine() {
  const node = el("p", { class: "w-status", role: "status" });
  return { node, say: (text) => (node.textContent = text || "") };
}
