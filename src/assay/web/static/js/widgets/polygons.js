// Polygons: outline every object in an image with a labelled polygon (see drawing.js for
// the mouse and keys): each press adds a corner; Enter, a double-click or a press on the
// first corner closes the outline. Every corner is a handle.

import { describeDrawing, mountDrawing, svg } from "./drawing.js";

/** The area inside the corners (shoelace formula), as the server measures it. */
function area(points) {
  const twice = points.reduce((sum, [x, y], i) => {
    const [nx, ny] = points[(i + 1) % points.length];
    return sum + x * ny - nx * y;
  }, 0);
  return Math.abs(twice) / 2;
}

const shape = {
  key: "polygons",
  noun: "polygon",
  closes: true,
  start: (p) => [p],
  element: (points, { open }) => svg(open ? "polyline" : "polygon", { points: points.map(String).join(" ") }),
  problem(points, params) {
    if (points.length < 3) return "needs 3 corners or more";
    const least = params.min_size || 0;
    if (area(points) > 0 && area(points) >= least) return null;
    return `encloses ${area(points)} px²; it needs more than ${least}`;
  },
  fromAnswer: (polygon) => polygon.points.map(([x, y]) => [x, y]),
  toAnswer: (points) => ({ points: points.map(([x, y]) => [x, y]) }),
  text: (points) => `with ${points.length} corners`,
};

export const mount = (root, ctx) => mountDrawing(root, ctx, shape);
export const describe = (answer, ctx) => describeDrawing(answer, ctx, shape);
