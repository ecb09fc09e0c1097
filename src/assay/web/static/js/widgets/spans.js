// Spans: tag character ranges of a text with labels. Digits choose the label; selecting
// text with the mouse tags it. By keyboard, in the text: arrows move over words,
// Shift+arrows extend the selection, Space (or a label's digit) tags it, Escape drops it.
// Clicking a tagged span, or its label button, removes it. Offsets count code points, as
// the server does.

import { button, choices, colourOf, digitOf, el, showItem, statusLine, uid } from "./common.js";

export function mount(root, ctx) {
  const params = ctx.project.params;
  const chars = Array.from(ctx.task.params.text);
  const words = wordsOf(chars);
  // keyboard: the words selected by keys, {anchor, focus}; caret: the word keys move from
  const state = { spans: [], keyboard: null, caret: -1 };
  const labels = choices({ legend: "Label to tag with", options: params.labels, keys: true });
  labels.set(params.labels[0]);
  const hint = el("p", {
    class: "w-hint",
    id: uid("hint"),
    text:
      "Select text with the mouse to tag it, or focus the text: ← and → move over words, " +
      "Shift extends, Space or a label's digit tags. Click a tagged span to remove it.",
  });
  const text = el("div", {
    class: "item w-spans",
    tabindex: "0",
    role: "group",
    "aria-label": "Text to tag",
    "aria-describedby": hint.id,
  });
  const status = statusLine();
  root.append(showItem(ctx.task.params, ["text"]), labels.node, hint, text, status.node);

  const pending = () => {
    if (!state.keyboard) return null;
    const [a, b] = [state.keyboard.anchor, state.keyboard.focus].sort((x, y) => x - y);
    return { start: words[a].start, end: words[b].end };
  };

  function render() {
    text.replaceChildren(...pieces(chars, state.spans, params.labels, pending(), remove));
  }

  function remove(span) {
    const hadFocus = text.contains(document.activeElement); // its label button goes
    state.spans = state.spans.filter((s) => s !== span);
    status.say(`Removed ${span.label}.`);
    render();
    if (hadFocus) text.focus();
    ctx.onChange(value());
  }

  function tag(range, label) {
    const same = (s) => s.start === range.start && s.end === range.end && s.label === label;
    const overlaps = (s) => !params.allow_overlap && s.start < range.end && range.start < s.end;
    const clash = state.spans.find((s) => same(s) || overlaps(s));
    state.keyboard = null;
    if (clash) {
      const why = `${same(clash) ? "is already tagged" : "overlaps"} ${clash.label} "${slice(chars, clash)}"`;
      status.say(`Not tagged: "${slice(chars, range)}" ${why}.`);
    } else {
      state.spans = sortSpans([...state.spans, { ...range, label }]);
      status.say(`Tagged ${label}: "${slice(chars, range)}".`);
      ctx.onChange(value());
    }
    render();
  }

  function moveKeyboard(step, extend) {
    if (!words.length) return;
    const focus = Math.min(words.length - 1, Math.max(0, state.caret + step));
    state.keyboard = { anchor: extend && state.keyboard ? state.keyboard.anchor : focus, focus };
    state.caret = focus;
    status.say(`Selected "${slice(chars, pending())}".`);
    render();
  }

  text.addEventListener("pointerup", (event) => {
    const range = selectedRange(text, chars);
    if (range) {
      getSelection().removeAllRanges();
      tag(range, labels.get());
    } else if (event.target.closest("mark")) {
      remove(state.spans[Number(event.target.closest("mark").dataset.span)]);
    }
  });

  function value() {
    return { spans: state.spans.map(bare) };
  }

  function set(answer) {
    state.spans = sortSpans((answer?.spans ?? []).map(bare));
    state.keyboard = null;
    render();
  }

  function key(event) {
    const inText = event.target === text;
    if (inText && (event.key === "ArrowRight" || event.key === "ArrowLeft")) {
      moveKeyboard(event.key === "ArrowRight" ? 1 : -1, event.shiftKey);
      return true;
    }
    if (inText && event.key === " " && pending()) {
      tag(pending(), labels.get());
      return true;
    }
    if (event.key === "Escape" && pending()) {
      state.keyboard = null;
      render();
      return true;
    }
    if (event.shiftKey || !labels.pick(digitOf(event))) return false;
    if (pending()) tag(pending(), labels.get());
    return true;
  }

  set(ctx.value);
  return { value, set, key, destroy: () => root.replaceChildren() };
}

export function describe(answer, ctx) {
  const chars = Array.from(ctx.task.params.text);
  const spans = sortSpans(answer.spans ?? []);
  return el("div", { class: "item w-spans" }, pieces(chars, spans, ctx.project.params.labels, null, null));
}

/** A span as the answer keeps it (its optional `text` left out). */
const bare = ({ start, end, label }) => ({ start, end, label });

function sortSpans(spans) {
  return [...spans].sort((a, b) => a.start - b.start || a.end - b.end || a.label.localeCompare(b.label));
}

function slice(chars, range) {
  return chars.slice(range.start, range.end).join("");
}

/** The text's words (runs of non-space) as code point ranges. */
function wordsOf(chars) {
  const words = [];
  chars.forEach((char, i) => {
    if (/\s/u.test(char)) return;
    if (words.length && words.at(-1).end === i) words.at(-1).end = i + 1;
    else words.push({ start: i, end: i + 1 });
  });
  return words;
}

/**
 * The text cut at every span boundary: pieces inside spans are <mark>s (naming the
 * shortest span over them), and each span is followed by its label, a button that
 * removes it when `remove` is given. `pending` (the keyboard's selection) is outlined.
 */
function pieces(chars, spans, labels, pending, remove) {
  const edges = [0, chars.length, ...spans.flatMap((s) => [s.start, s.end])];
  if (pending) edges.push(pending.start, pending.end);
  const cuts = [...new Set(edges)].sort((a, b) => a - b);
  const nodes = [];
  for (let k = 0; k + 1 < cuts.length; k += 1) {
    const [a, b] = [cuts[k], cuts[k + 1]];
    const over = spans.filter((s) => s.start <= a && b <= s.end);
    const inner = over.sort((s, t) => s.end - s.start - (t.end - t.start))[0];
    const marked = pending && pending.start <= a && b <= pending.end ? "w-pending" : "";
    const piece = slice(chars, { start: a, end: b });
    if (!inner) nodes.push(el("span", { class: marked || null }, piece));
    else {
      const attrs = { class: `w-span ${colourOf(labels, inner.label)} ${marked}`, "data-span": spans.indexOf(inner) };
      nodes.push(el("mark", attrs, piece));
    }
    for (const span of spans.filter((s) => s.end === b)) nodes.push(tagOf(span, chars, labels, remove));
  }
  return nodes;
}

function tagOf(span, chars, labels, remove) {
  const attrs = { class: `w-tag ${colourOf(labels, span.label)}`, "data-tag": true };
  if (!remove) return el("span", attrs, span.label);
  const name = `Remove ${span.label}: ${slice(chars, span)}`;
  return button(span.label, () => remove(span), { ...attrs, "aria-label": name });
}

/** The window's selection inside the text as trimmed code point offsets, or null. */
function selectedRange(container, chars) {
  const selection = getSelection();
  if (!selection.rangeCount || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!range.intersectsNode(container)) return null;
  const at = (node, offset, outside) => (container.contains(node) ? offsetOf(container, node, offset) : outside);
  let start = at(range.startContainer, range.startOffset, 0);
  let end = at(range.endContainer, range.endOffset, chars.length);
  while (start < end && /\s/u.test(chars[start])) start += 1;
  while (end > start && /\s/u.test(chars[end - 1])) end -= 1;
  return end > start ? { start, end } : null;
}

/** Code points of the text before a DOM position, not counting the label buttons. */
function offsetOf(container, node, offset) {
  const range = document.createRange();
  range.setStart(container, 0);
  range.setEnd(node, offset);
  const before = range.cloneContents();
  for (const label of before.querySelectorAll("[data-tag]")) label.remove();
  return Array.from(before.textContent).length;
}
