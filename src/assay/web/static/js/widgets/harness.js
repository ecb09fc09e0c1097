// The widget harness (harness.html): mounts one widget with the workspace's key routing,
// for tests and for trying a widget out. Exposes window.widget, window.changes (every
// value onChange reported), window.pageKeys (keys the page kept for itself) and
// window.describeAnswer(answer) (renders the read-only view, returns its text).

import { listenForShortcuts } from "/static/js/keys.js";
import { loadWidget } from "/static/js/widgets/index.js";

const query = new URLSearchParams(location.search);
const ctx = JSON.parse(query.get("ctx") || window.name || "{}");
const widgetModule = await loadWidget(query.get("widget"));
const shown = document.getElementById("value");
const show = (value) => (shown.textContent = JSON.stringify(value, null, 2));

window.changes = [];
window.pageKeys = [];
window.widget = widgetModule.mount(document.getElementById("mount"), {
  ...ctx,
  value: ctx.value ?? null,
  onChange(value) {
    window.changes.push(value);
    show(value);
  },
});
show(window.widget.value());
window.describeAnswer = (answer) => {
  const node = widgetModule.describe(answer, ctx);
  document.getElementById("describe").replaceChildren(node);
  return node.textContent;
};

const keep = (name) => () => window.pageKeys.push(name);
listenForShortcuts({
  shortcuts: { Enter: keep("Enter"), s: keep("s"), "Ctrl+z": keep("Ctrl+z"), "?": keep("?") },
  widget: () => window.widget,
  submit: keep("Ctrl+Enter"),
});
