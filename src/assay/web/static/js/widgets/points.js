// Points: mark every object or landmark in an image with a labelled point (see drawing.js
// for the mouse and keys): a press places a point, dragging moves it.

import { describeDrawing, mountDrawing, svg } from "./drawing.js";

const DOT_PX = 5;

const shape = {
  key: "points",
  noun: "point",
  start: (p) => [p],
  element: ([[x, y]], { unit }) => svg("circle", { cx: x, cy: y, r: DOT_PX * unit, class: "w-dot" }),
  handles: () => [], // a point is moved whole
  problem: () => null,
  fromAnswer: (point) => [[point.x, point.y]],
  toAnswer: ([[x, y]]) => ({ x, y }),
  text: ([[x, y]]) => `at ${x}, ${y}`,
};

export const mount = (root, ctx) => mountDrawing(root, ctx, shape);
export const describe = (answer, ctx) => describeDrawing(answer, ctx, shape);
