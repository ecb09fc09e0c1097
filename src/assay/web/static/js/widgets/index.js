// Widgets: how each task kind is shown and answered in the browser. A kind names its
// widget (`assay kinds`); the widget is the ES module /static/js/widgets/<name>.js with:
//
//   export function mount(root, ctx) -> widget
//     root: an empty element to render into (the item and the answer controls).
//     ctx:  { task: {id, params, hypothesis?}, project: {id, kind, params},
//             value: the answer to start from (a draft, the hypothesis, or null),
//             onChange(value): call after every change the worker makes }
//   widget.value()  -> the answer in the kind's response format, or null while incomplete
//   widget.set(v)   -> show answer v (undo, a restored draft); null clears
//   widget.key(e)   -> a keydown outside text fields (digits pick labels, ...);
//                      return true when handled
//   widget.destroy()
//
//   export function describe(answer, ctx) -> Node   (read-only view, for reviewers)
//
// Keys the page keeps for itself outside text fields: Enter (submit), s (skip),
// Ctrl+Z (undo), ? (shortcuts). In text fields Ctrl+Enter submits.

const loaded = new Map();

export function loadWidget(name) {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`bad widget name ${name}`);
  if (!loaded.has(name)) loaded.set(name, import(`/static/js/widgets/${name}.js`));
  return loaded.get(name);
}
