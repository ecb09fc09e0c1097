// Charts drawn as SVG in the page: bar, line and scatter. Every chart is an
// <svg role="img"> with a <title>, an aria-label that reads out its values, a visible
// title and axis labels; values are also written next to the marks and in each mark's
// <title>, and series differ by marker shape, so nothing depends on telling colours apart.

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 720;

function node(tag, attrs = {}, text) {
  const made = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) made.setAttribute(name, value);
  if (text !== undefined) made.textContent = text;
  return made;
}

function frame(title, summary, height) {
  const svg = node("svg", {
    viewBox: `0 0 ${WIDTH} ${height}`,
    role: "img",
    "aria-label": `${title}. ${summary}`,
    class: "chart",
  });
  svg.append(node("title", {}, title), node("text", { x: 0, y: 16, class: "chart-title" }, title));
  return svg;
}

function clip(text, max = 22) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// A round upper bound for an axis that starts at 0 (1, 2, 2.5 or 5 times a power of ten).
function niceMax(value) {
  if (!(value > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * step).find((bound) => bound >= value);
}

function steps(low, high, count = 5) {
  return Array.from({ length: count + 1 }, (_, i) => low + ((high - low) * i) / count);
}

function plainNumber(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0+$/, "");
}

// Axes, grid and axis titles for a plot area; returns the scales from data to pixels.
function axes(svg, height, { x, y, xLabel, yLabel, xTicks = steps(x[0], x[1], 4), formatX = plainNumber, formatY = plainNumber }) {
  const box = { left: 64, right: WIDTH - 40, top: 36, bottom: height - 52 };
  const sx = (v) => box.left + ((v - x[0]) / (x[1] - x[0] || 1)) * (box.right - box.left);
  const sy = (v) => box.bottom - ((v - y[0]) / (y[1] - y[0] || 1)) * (box.bottom - box.top);
  for (const tick of steps(y[0], y[1])) {
    svg.append(
      node("line", { x1: box.left, x2: box.right, y1: sy(tick), y2: sy(tick), class: "chart-grid" }),
      node("text", { x: box.left - 6, y: sy(tick) + 4, "text-anchor": "end" }, formatY(tick)),
    );
  }
  for (const tick of xTicks) {
    svg.append(
      node("line", { x1: sx(tick), x2: sx(tick), y1: box.bottom, y2: box.bottom + 5, class: "chart-axis" }),
      node("text", { x: sx(tick), y: box.bottom + 18, "text-anchor": "middle" }, formatX(tick)),
    );
  }
  svg.append(
    node("line", { x1: box.left, x2: box.right, y1: box.bottom, y2: box.bottom, class: "chart-axis" }),
    node("line", { x1: box.left, x2: box.left, y1: box.top, y2: box.bottom, class: "chart-axis" }),
    node("text", { x: (box.left + box.right) / 2, y: box.bottom + 42, "text-anchor": "middle", class: "chart-label" }, xLabel),
    node("text", {
      x: 0, y: 0, "text-anchor": "middle", class: "chart-label",
      transform: `translate(14 ${(box.top + box.bottom) / 2}) rotate(-90)`,
    }, yLabel),
  );
  return { sx, sy };
}

// Horizontal bars, one a row, each with its label on the left and its value text
// (`bar.text`, else the value) written after it. bars: [{label, value, text?}].
export function barChart({ title, xLabel, bars, max }) {
  const rowHeight = 30, top = 30, left = 180, right = WIDTH - 200;
  const height = top + bars.length * rowHeight + 46;
  const bound = max ?? niceMax(Math.max(...bars.map((b) => b.value)));
  const sx = (v) => left + (v / bound) * (right - left);
  const said = (b) => b.text ?? plainNumber(b.value);
  const svg = frame(title, bars.map((b) => `${b.label}: ${said(b)}`).join("; "), height);
  const bottom = top + bars.length * rowHeight;
  for (const tick of steps(0, bound, 4)) {
    svg.append(
      node("line", { x1: sx(tick), x2: sx(tick), y1: top, y2: bottom, class: "chart-grid" }),
      node("text", { x: sx(tick), y: bottom + 16, "text-anchor": "middle" }, plainNumber(tick)),
    );
  }
  bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    const rect = node("rect", {
      x: left, y: y + 6, height: rowHeight - 12, width: Math.max(sx(bar.value) - left, 1), class: "chart-bar",
    });
    rect.append(node("title", {}, `${bar.label}: ${said(bar)}`));
    svg.append(
      node("text", { x: left - 8, y: y + rowHeight / 2 + 4, "text-anchor": "end" }, clip(bar.label)),
      rect,
      node("text", { x: sx(bar.value) + 6, y: y + rowHeight / 2 + 4, class: "chart-value" }, said(bar)),
    );
  });
  svg.append(
    node("line", { x1: left, x2: left, y1: top, y2: bottom, class: "chart-axis" }),
    node("text", { x: (left + right) / 2, y: bottom + 36, "text-anchor": "middle", class: "chart-label" }, xLabel),
  );
  return svg;
}

// A line through points [{x, y}] (sorted by x) with a marker on each; with few points
// every value is written above its marker, else only the highest. The x axis is marked
// at points (at most six).
export function lineChart({ title, xLabel, yLabel, points, formatX }) {
  const height = 300;
  const svg = frame(title, points.map((p) => `${formatX(p.x)}: ${plainNumber(p.y)}`).join("; "), height);
  const xs = points.map((p) => p.x);
  const every = Math.ceil(points.length / 6);
  const { sx, sy } = axes(svg, height, {
    x: [Math.min(...xs), Math.max(...xs)],
    y: [0, niceMax(Math.max(...points.map((p) => p.y)))],
    xTicks: xs.filter((_, i) => i % every === 0),
    xLabel, yLabel, formatX,
  });
  const path = points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" ");
  svg.append(node("polyline", { points: path, class: "chart-line" }));
  const peak = Math.max(...points.map((p) => p.y));
  for (const p of points) {
    const marker = node("circle", { cx: sx(p.x), cy: sy(p.y), r: 3.5, class: "chart-mark" });
    marker.append(node("title", {}, `${formatX(p.x)}: ${plainNumber(p.y)}`));
    svg.append(marker);
    if (points.length <= 24 || p.y === peak) {
      svg.append(node("text", { x: sx(p.x), y: sy(p.y) - 8, "text-anchor": "middle", class: "chart-value" }, plainNumber(p.y)));
    }
  }
  return svg;
}

const SHAPES = {
  circle: (x, y) => node("circle", { cx: x, cy: y, r: 6 }),
  square: (x, y) => node("rect", { x: x - 5.5, y: y - 5.5, width: 11, height: 11 }),
  triangle: (x, y) => node("path", { d: `M${x} ${y - 7}L${x + 7} ${y + 5}L${x - 7} ${y + 5}Z` }),
};

// Points [{x, y, label, shape}] each named by its label beside its marker; `legend`
// ({shape: meaning}, two entries at most) explains the shapes, beside the title.
export function scatterChart({ title, xLabel, yLabel, points, legend, formatX, formatY, yRange = [0, 1] }) {
  const said = (p) => `${p.label}: ${formatX(p.x)}, ${formatY(p.y)} (${legend[p.shape]})`;
  const height = 340;
  const svg = frame(title, points.map(said).join("; "), height);
  const { sx, sy } = axes(svg, height, {
    x: [0, niceMax(Math.max(...points.map((p) => p.x)))],
    y: yRange, xLabel, yLabel, formatX, formatY,
  });
  for (const p of points) {
    const marker = SHAPES[p.shape](sx(p.x), sy(p.y));
    marker.setAttribute("class", "chart-mark");
    marker.append(node("title", {}, said(p)));
    svg.append(marker, node("text", { x: sx(p.x) + 9, y: sy(p.y) + 4, class: "chart-value" }, clip(p.label, 18)));
  }
  Object.entries(legend).forEach(([shape, meaning], i) => {
    const x = 360 + i * 170, y = 12;
    const marker = SHAPES[shape](x, y);
    marker.setAttribute("class", "chart-mark");
    svg.append(marker, node("text", { x: x + 12, y: y + 4 }, meaning));
  });
  return svg;
}
