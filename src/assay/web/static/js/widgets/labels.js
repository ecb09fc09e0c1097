// Categorization: pick one label, several (`multi`), or a node of a label tree
// (`taxonomy`; a leaf unless `leaves_only` is false). Digits pick the first ten choices; in
// a tree they pick among the labels shown, an inner label opening its children, and
// Backspace goes back up a level.

import { button, choices, digitName, digitOf, el, showItem } from "./common.js";

export function mount(root, ctx) {
  const params = ctx.project.params;
  const picker = params.taxonomy ? treePicker(params, ctx.onChange) : flatPicker(params, ctx.onChange);
  root.append(showItem(ctx.task.params), picker.node);
  picker.set(ctx.value);
  return { ...picker, destroy: () => root.replaceChildren() };
}

export function describe(answer, ctx) {
  const labels = answer.labels ?? [answer.label];
  const tree = ctx.project.params.taxonomy ? nodesOf(ctx.project.params.taxonomy) : null;
  const shown = labels.map((label) => (tree?.has(label) ? tree.get(label).path.join(" › ") : label));
  const title = el("strong", { text: labels.length > 1 ? "Labels: " : "Label: " });
  return el("p", { class: "w-answer" }, title, shown.join(", "));
}

function flatPicker(params, onChange) {
  const multi = Boolean(params.multi);
  const group = choices({
    legend: multi ? "Labels (pick all that apply)" : "Label",
    options: params.labels,
    multiple: multi,
    keys: true,
    onChange: () => onChange(value()),
  });
  function value() {
    const picked = group.get();
    if (multi) return picked.length ? { labels: picked } : null;
    return picked === null ? null : { label: picked };
  }
  return {
    node: group.node,
    value,
    set: (answer) => group.set(multi ? answer?.labels : (answer?.label ?? null)),
    key: (event) => !event.shiftKey && group.pick(digitOf(event)),
  };
}

/** Every node of a taxonomy by name: its path from the root and its children. */
function nodesOf(taxonomy) {
  const nodes = new Map();
  const walk = (children, path) => {
    for (const [name, kids] of Object.entries(children)) {
      nodes.set(name, { path: [...path, name], children: kids });
      walk(kids, [...path, name]);
    }
  };
  walk(taxonomy, []);
  return nodes;
}

function treePicker(params, onChange) {
  const nodes = nodesOf(params.taxonomy);
  const leavesOnly = params.leaves_only ?? true;
  const hasChildren = (name) => Object.keys(nodes.get(name).children).length > 0;
  const answerable = (name) => nodes.has(name) && !(leavesOnly && hasChildren(name));
  const state = { level: [], chosen: null }; // level: the path whose children are shown
  const crumbs = el("nav", { class: "w-crumbs", "aria-label": "Place in the label tree" });
  const list = el("div", { class: "w-options", role: "group", "aria-label": "Labels at this level" });
  const chosen = el("p", { class: "w-chosen", role: "status" });
  const node = el("fieldset", { class: "w-choices" }, el("legend", { text: "Label" }), crumbs, list, chosen);

  const shown = () => (state.level.length ? nodes.get(state.level.at(-1)).children : params.taxonomy);
  const children = () => Object.keys(shown());
  const choice = (content, onclick, attrs = {}) => button(content, onclick, { class: "w-choice", ...attrs });

  function render() {
    const hadFocus = node.contains(document.activeElement); // re-rendering drops the focused button
    const up = state.level.flatMap((name, i) => [" › ", choice(name, () => go(state.level.slice(0, i + 1)))]);
    crumbs.replaceChildren(choice("All labels", () => go([])), ...up);
    list.replaceChildren(
      ...children().map((name, i) => {
        const inner = hasChildren(name);
        const content = [name, inner ? " ›" : "", digitName(i) ? el("kbd", { text: digitName(i) }) : ""];
        const attrs = { "aria-pressed": String(state.chosen === name), "aria-label": inner ? `${name}, open` : name };
        return choice(content, () => pick(name), attrs);
      }),
    );
    const path = state.chosen ? nodes.get(state.chosen)?.path.join(" › ") : null;
    chosen.textContent = !path
      ? "Chosen: nothing yet"
      : `Chosen: ${path}${answerable(state.chosen) ? "" : " (pick a label under it)"}`;
    if (hadFocus) (list.querySelector("[aria-pressed=true]") || list.firstElementChild)?.focus();
  }

  function go(level) {
    state.level = level;
    render();
  }

  function pick(name) {
    if (answerable(name)) state.chosen = name;
    if (hasChildren(name)) state.level = nodes.get(name).path;
    render();
    onChange(value());
  }

  function value() {
    return answerable(state.chosen) ? { label: state.chosen } : null;
  }

  return {
    node,
    value,
    set(answer) {
      const label = nodes.has(answer?.label) ? answer.label : null;
      state.chosen = label;
      state.level = label ? nodes.get(label).path.slice(0, -1) : [];
      render();
    },
    key(event) {
      if (event.key === "Backspace" && state.level.length) {
        go(state.level.slice(0, -1));
        return true;
      }
      const name = children()[digitOf(event)];
      if (event.shiftKey || name === undefined) return false;
      pick(name);
      return true;
    },
  };
}
