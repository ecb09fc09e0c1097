// Boxes: draw a labelled rectangle around every object in an image (see drawing.js for
// the mouse and keys). A box is kept as two opposite corners; its four corners are the
// handles, each dragged against the one across from it.

import { describeDrawing, mountDrawing, svg } from "./drawing.js";

function rect([[x0, y0], [x1, y1]]) {
  return { x: Math.min(x0, x1), y: Math.min(y0, y1), width: Math.abs(x1 - x0), height: Math.abs(y1 - y0) };
}

function corners(points) {
  const { x, y, width, height } = rect(points);
  return [[x, y], [x + width, y], [x + width, y + height], [x, y + height]];
}

const shape = {
  key: "boxes",
  noun: "box",
  stretch: true,
  start: (p) => [p, [...p]],
  element: (points) => svg("rect", rect(points)),
  handles: corners,
  reshape: (points, i, p) => [corners(points)[(i + 2) % 4], p],
  problem(points, params) {
    const { width, height } = rect(points);
    const least = params.min_size || 0;
    if (width > 0 && height > 0 && width >= least && height >= least) return null;
    return `is ${width} × ${height} px; drag to make it at least ${Math.max(least, 1)} px each way`;
  },
  fromAnswer: (box) => [[box.x, box.y], [box.x + box.width, box.y + box.height]],
  toAnswer: rect,
  text(points) {
    const { x, y, width, height } = rect(points);
    return `at ${x}, ${y}, ${width} × ${height} px`;
  },
};

export const mount = (root, ctx) => mountDrawing(root, ctx, shape);
export const describe = (answer, ctx) => describeDrawing(answer, ctx, shape);
