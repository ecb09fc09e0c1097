// Drawing on a task's image, shared by the boxes, polygons and points widgets. An SVG
// laid over the <img> has the image's own size as its viewBox, so everything is in the
// image's pixels at any zoom. Objects are {label, points: [[x, y], ...]}; each widget
// passes a `shape` saying how its objects are made, drawn, checked and written:
//
//   key          the answer's list ("boxes"), also the objects' plural name
//   noun         one object ("box")
//   stretch      a press starts an object and the release finishes it (boxes)
//   closes       every press adds a corner until Enter, a double-click or a press on the
//                first corner closes the outline (polygons)
//                (neither: a press places the object, dragging moves it until released)
//   start(p)     the points a press at p makes
//   element(points, {open, unit}) the SVG element drawing it (unit: one screen pixel)
//   handles?(points), reshape?(points, i, p): where it is reshaped (default: its points)
//   problem(points, params) why it cannot be kept, or null
//   fromAnswer(item) -> points; toAnswer(points) -> the item without its label
//   text(points) a short description for the list of objects
//
// Mouse: press on the image to draw, drag a selected object to move it or its handles to
// reshape it, the wheel zooms. Keys: digits pick the label (and relabel the selected
// object), Delete removes it, + and - zoom, Escape lets go. With the image focused,
// arrows move a cross-hair and Space draws at it; arrows move the selected object
// (Shift: 10 px), and V picks one of its handles to move instead.

import { button, choices, colourOf, digitOf, el, showItem, statusLine, uid } from "./common.js";

const NS = "http://www.w3.org/2000/svg";
const ZOOM_STEP = 1.25;
const ZOOM_RANGE = [0.05, 20];
const HANDLE_PX = 6;
const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const handlesOf = (shape, points) => (shape.handles ? shape.handles(points) : points);
const reshape = (shape, points, i, p) =>
  shape.reshape ? shape.reshape(points, i, p) : points.map((q, j) => (j === i ? p : q));
const copy = (points) => points.map((p) => [...p]);
const same = (a, b) => a.length === b.length && a.every((p, i) => p[0] === b[i][0] && p[1] === b[i][1]);

export function mountDrawing(root, ctx, shape) {
  const params = ctx.project.params;
  const { image, width, height } = ctx.task.params;
  const state = {
    objects: [],
    selected: -1,
    handle: -1, // the selected object's handle the arrows move, -1 for the whole object
    drawing: null, // the object being drawn
    drag: null, // {kind: "new" | "move" | "handle", ...} while a press lasts
    held: false, // a press made with Space, released by the next Space
    zoom: 1,
    cursor: [Math.round(width / 2), Math.round(height / 2)],
    keyboard: false, // show the cross-hair: the image was last used by keyboard
  };
  const labels = choices({
    legend: "Label",
    options: params.labels.map((label) => ({ value: label, text: label })),
    keys: true,
    onChange: relabel,
  });
  labels.set(params.labels[0]);
  const help = el("p", {
    class: "w-hint",
    id: uid("help"),
    text:
      `Draw ${shape.key} with the mouse, or focus the image and use arrows and Space. ` +
      `Arrows move the selected ${shape.noun} (Shift: 10 px), V picks a handle to move, ` +
      `Delete removes it, Escape lets go of it, + and − zoom` +
      `${shape.closes ? "; Enter or a double-click closes the outline" : ""}.`,
  });
  const layer = svg("svg", {
    class: "w-layer",
    viewBox: `0 0 ${width} ${height}`,
    tabindex: "0",
    role: "application",
    "aria-label": `Image to mark, ${width} by ${height} pixels`,
    "aria-describedby": help.id,
  });
  const img = el("img", { src: image, alt: "", draggable: "false" });
  const canvas = el("div", { class: "w-canvas" }, img, layer);
  const stage = el("div", { class: "w-stage" }, canvas);
  const zoomShown = el("span", { class: "w-zoom", "aria-live": "polite" });
  const list = el("ol", { class: "w-objects", "aria-label": `The ${shape.key}` });
  const status = statusLine();
  const toolbar = el(
    "div",
    { class: "row w-toolbar" },
    button("Zoom out (−)", () => zoomBy(1 / ZOOM_STEP)),
    zoomShown,
    button("Zoom in (+)", () => zoomBy(ZOOM_STEP)),
    button(`Delete selected ${shape.noun}`, removeSelected),
  );
  const item = showItem(ctx.task.params, ["image", "width", "height"]);
  root.append(item, labels.node, toolbar, stage, help, status.node, list);

  const selected = () => state.objects[state.selected];
  const changed = () => ctx.onChange(value());

  function render() {
    drawLayer();
    list.replaceChildren(...state.objects.map((object, i) => listItem(object, i)));
  }

  function drawLayer() {
    const unit = 1 / state.zoom;
    const nodes = state.objects.map((object, i) =>
      objectNode(object, shape, params, { unit, index: i, selected: i === state.selected, handle: state.handle }),
    );
    if (state.drawing) nodes.push(objectNode(state.drawing, shape, params, { unit, open: true }));
    if (state.keyboard && document.activeElement === layer) {
      nodes.push(crossHair(state.cursor, width, height, unit));
    }
    layer.replaceChildren(...nodes);
    // Enter closes an outline in progress; otherwise it stays the page's (submit).
    layer.toggleAttribute("data-native-enter", Boolean(state.drawing && shape.closes));
  }

  function listItem(object, i) {
    const text = `${i + 1}. ${object.label} ${shape.noun} ${shape.text(object.points)}`;
    const pressed = { class: "w-choice", "aria-pressed": String(i === state.selected) };
    return el("li", { class: colourOf(params.labels, object.label) }, button(text, () => select(i), pressed));
  }

  function select(i) {
    state.selected = i;
    state.handle = -1;
    if (selected()) labels.set(selected().label);
    render();
  }

  function setZoom(zoom) {
    state.zoom = Math.min(ZOOM_RANGE[1], Math.max(ZOOM_RANGE[0], zoom));
    canvas.style.width = `${width * state.zoom}px`;
    canvas.style.height = `${height * state.zoom}px`;
    zoomShown.textContent = `${Math.round(state.zoom * 100)}%`;
    render();
  }

  /** Zoom by a factor, keeping the image point under the pointer (if any) in place. */
  function zoomBy(factor, event) {
    const anchor = event ? toImage(event) : null;
    setZoom(state.zoom * factor);
    if (!anchor) return;
    const box = stage.getBoundingClientRect();
    stage.scrollLeft = anchor[0] * state.zoom - (event.clientX - box.left);
    stage.scrollTop = anchor[1] * state.zoom - (event.clientY - box.top);
  }

  function toImage(event) {
    const box = layer.getBoundingClientRect();
    const scale = width / box.width;
    return inside([(event.clientX - box.left) * scale, (event.clientY - box.top) * scale]);
  }

  function inside([x, y]) {
    return [Math.min(width, Math.max(0, Math.round(x))), Math.min(height, Math.max(0, Math.round(y)))];
  }

  /** Points moved by (dx, dy), held back at the image's edges so the object keeps its shape. */
  function translate(points, dx, dy) {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const sx = Math.min(width - Math.max(...xs), Math.max(-Math.min(...xs), dx));
    const sy = Math.min(height - Math.max(...ys), Math.max(-Math.min(...ys), dy));
    return points.map(([x, y]) => [x + sx, y + sy]);
  }

  function press(p, target) {
    state.cursor = p;
    if (state.drawing && shape.closes) {
      // A press on the first corner, or again on the last (a double-click), closes it.
      const { points } = state.drawing;
      const near = (q) => Math.hypot(p[0] - q[0], p[1] - q[1]) <= HANDLE_PX / state.zoom;
      if (points.length >= 3 && (near(points[0]) || near(points.at(-1)))) return finish();
      points.push(p);
      state.drag = { kind: "new" };
      return render();
    }
    const handle = target.closest?.("[data-handle]");
    const owner = target.closest?.("[data-index]");
    if (handle && selected()) {
      state.handle = Number(handle.dataset.handle);
      state.drag = { kind: "handle", before: copy(selected().points) };
    } else if (owner) {
      select(Number(owner.dataset.index));
      state.drag = { kind: "move", from: p, before: copy(selected().points) };
    } else {
      state.selected = -1;
      state.drawing = { label: labels.get(), points: shape.start(p) };
      state.drag = { kind: "new" };
    }
    render();
  }

  function dragTo(p) {
    state.cursor = p;
    const { drag } = state;
    if (drag.kind === "new") state.drawing.points[state.drawing.points.length - 1] = p;
    else if (drag.kind === "handle") selected().points = reshape(shape, drag.before, state.handle, p);
    else selected().points = translate(drag.before, p[0] - drag.from[0], p[1] - drag.from[1]);
    render();
  }

  function release() {
    const { drag } = state;
    state.drag = null;
    if (!drag) return;
    if (drag.kind === "new") return shape.closes ? render() : finish();
    keepOrRevert(drag.before);
  }

  /** After an edit: back to `before` if the object is no longer valid, else a change. */
  function keepOrRevert(before) {
    const object = selected();
    const problem = shape.problem(object.points, params);
    if (problem) {
      object.points = before;
      status.say(`Not changed: the ${shape.noun} ${problem}.`);
    } else if (!same(before, object.points)) {
      changed();
    }
    render();
  }

  /** Keep the object being drawn (its repeated points dropped) if it is valid. */
  function finish() {
    const drawing = state.drawing;
    state.drawing = null;
    state.drag = null;
    drawing.points = drawing.points.filter((p, i, all) => i === 0 || !same([p], [all[i - 1]]));
    const problem = shape.problem(drawing.points, params);
    if (problem) {
      status.say(`Not kept: the ${shape.noun} ${problem}.`);
      return render();
    }
    state.objects.push(drawing);
    state.selected = state.objects.length - 1;
    state.handle = -1;
    status.say(`Added ${drawing.label} ${shape.noun} ${shape.text(drawing.points)}.`);
    changed();
    render();
  }

  function relabel() {
    const label = labels.get();
    if (state.drawing) state.drawing.label = label;
    if (selected() && selected().label !== label) {
      selected().label = label;
      changed();
    }
    render();
  }

  function removeSelected() {
    if (!selected()) return false;
    const [gone] = state.objects.splice(state.selected, 1);
    state.selected = -1;
    status.say(`Removed ${gone.label} ${shape.noun}.`);
    changed();
    render();
    return true;
  }

  /** Escape: drop the outline in progress, else let go of the selection. */
  function letGo() {
    if (!state.drawing && !selected()) return false;
    state.drawing = null;
    state.drag = null;
    state.held = false;
    state.selected = -1;
    render();
    return true;
  }

  function arrow(event, [dx, dy]) {
    const step = event.shiftKey ? 10 : 1;
    const object = selected();
    if (object && !state.drag) {
      const before = copy(object.points);
      if (state.handle < 0) object.points = translate(before, dx * step, dy * step);
      else {
        const [x, y] = handlesOf(shape, before)[state.handle];
        object.points = reshape(shape, before, state.handle, inside([x + dx * step, y + dy * step]));
      }
      keepOrRevert(before);
      return true;
    }
    if (event.target !== layer) return false;
    state.keyboard = true;
    const moved = inside([state.cursor[0] + dx * step, state.cursor[1] + dy * step]);
    if (state.drag) dragTo(moved);
    else {
      state.cursor = moved;
      render();
    }
    return true;
  }

  /** Space on the image: press at the cross-hair; a box is held until the next Space. */
  function space() {
    state.keyboard = true;
    if (state.held) {
      state.held = false;
      release();
      return;
    }
    press(state.cursor, layer);
    if (shape.stretch) state.held = true;
    else release();
  }

  function nextHandle() {
    if (!selected()) return false;
    const count = handlesOf(shape, selected().points).length;
    state.handle = ((state.handle + 2) % (count + 1)) - 1;
    const moving = state.handle < 0 ? `the whole ${shape.noun}` : `handle ${state.handle + 1} of ${count}`;
    status.say(`Arrows move ${moving}.`);
    render();
    return true;
  }

  layer.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    state.keyboard = false;
    state.held = false;
    layer.focus({ preventScroll: true });
    layer.setPointerCapture(event.pointerId);
    press(toImage(event), event.target);
  });
  layer.addEventListener("pointermove", (event) => state.drag && !state.held && dragTo(toImage(event)));
  layer.addEventListener("pointerup", () => !state.held && release());
  layer.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && state.drawing && shape.closes) {
      event.preventDefault();
      event.stopPropagation(); // handled: not the page's submit
      finish();
    }
  });
  // Only the cross-hair changes: redrawing the list too would swap the button being pressed.
  layer.addEventListener("focus", drawLayer);
  layer.addEventListener("blur", drawLayer);
  stage.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      zoomBy(event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, event);
    },
    { passive: false },
  );

  function key(event) {
    if (ARROWS[event.key]) return arrow(event, ARROWS[event.key]);
    if (event.key === " " && event.target === layer) {
      space();
      return true;
    }
    if (event.key === "+" || event.key === "=") zoomBy(ZOOM_STEP);
    else if (event.key === "-" || event.key === "_") zoomBy(1 / ZOOM_STEP);
    else if (event.key === "Delete" || event.key === "Backspace") return removeSelected();
    else if (event.key === "Escape") return letGo();
    else if (event.key === "v" || event.key === "V") return nextHandle();
    else return !event.shiftKey && labels.pick(digitOf(event));
    return true;
  }

  function value() {
    return { [shape.key]: state.objects.map((o) => ({ ...shape.toAnswer(o.points), label: o.label })) };
  }

  function set(answer) {
    state.objects = objectsOf(answer, shape);
    state.selected = -1;
    state.drawing = null;
    state.drag = null;
    render();
  }

  set(ctx.value);
  setZoom(Math.min(1, stage.clientWidth / width || 1));
  return { value, set, key, destroy: () => root.replaceChildren() };
}

/** A read-only view of an answer: the image with its objects over it, and their list. */
export function describeDrawing(answer, ctx, shape) {
  const { image, width, height } = ctx.task.params;
  const objects = objectsOf(answer, shape);
  const unit = Math.max(width, height) / 480; // drawn about 480 px wide
  const drawn = objects.map((object) => objectNode(object, shape, ctx.project.params, { unit }));
  const layer = svg("svg", { class: "w-layer", viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true" }, ...drawn);
  const picture = el("img", { src: image, alt: "The image marked" });
  const items = objects.map((o) => el("li", { text: `${o.label} ${shape.noun} ${shape.text(o.points)}` }));
  const canvas = el("div", { class: "w-canvas w-fit" }, picture, layer);
  canvas.style.aspectRatio = `${width} / ${height}`; // a style property: the page policy forbids style attributes
  return el("figure", { class: "w-figure" }, canvas, el("figcaption", {}, el("ol", {}, items)));
}

function objectsOf(answer, shape) {
  return (answer?.[shape.key] ?? []).map((item) => ({ label: item.label, points: shape.fromAnswer(item) }));
}

/** One object: its outline (with a wider invisible edge to grab), its label as text, and
 *  its handles when selected. */
function objectNode(object, shape, params, { unit, index = null, selected = false, handle = -1, open = false }) {
  const body = shape.element(object.points, { unit, open });
  body.classList.add("w-body");
  const grab = body.cloneNode();
  grab.setAttribute("class", "w-grab");
  const left = Math.min(...object.points.map((p) => p[0]));
  const top = Math.min(...object.points.map((p) => p[1]));
  const size = 13 * unit;
  const y = top > size ? top - 4 * unit : top + size; // above the object, inside the image
  const label = svg("text", { x: left, y, "font-size": size, class: "w-label" }, object.label);
  const classes = `w-obj ${colourOf(params.labels, object.label)}${selected ? " w-selected" : ""}`;
  const g = svg("g", { class: classes }, grab, body, label);
  if (index !== null) g.setAttribute("data-index", index);
  const handles = open ? object.points : selected ? handlesOf(shape, object.points) : [];
  handles.forEach(([x, y], i) => {
    const active = selected && i === handle ? " w-active" : "";
    g.append(svg("circle", { cx: x, cy: y, r: HANDLE_PX * unit, class: `w-handle${active}`, "data-handle": i }));
  });
  return g;
}

function crossHair([x, y], width, height, unit) {
  return svg(
    "g",
    { class: "w-cross" },
    svg("line", { x1: 0, y1: y, x2: width, y2: y }),
    svg("line", { x1: x, y1: 0, x2: x, y2: height }),
    svg("circle", { cx: x, cy: y, r: HANDLE_PX * unit }),
  );
}
