// Live sparklines: the same drawing as web/charts.py `sparkline`, for a run that just
// finished. The SVG keeps its runs in data-points ("ms:ok,..."), oldest first.

const WIDTH = 120;
const HEIGHT = 32;
const PAD = 3;
const KEEP = 30;
const SVG = "http://www.w3.org/2000/svg";

function parse(text) {
  if (!text) return [];
  return text.split(",").map((part) => {
    const [ms, ok] = part.split(":");
    return [Number(ms), ok === "1"];
  });
}

export function drawSpark(svg, runs) {
  svg.dataset.points = runs.map(([ms, ok]) => `${ms.toFixed(1)}:${ok ? 1 : 0}`).join(",");
  svg.replaceChildren();
  if (!runs.length) return;
  const values = runs.map(([ms]) => ms);
  const low = Math.min(...values);
  const spread = Math.max(...values) - low || 1;
  const gap = runs.length > 1 ? WIDTH / (runs.length - 1) : 0;
  const coords = values.map((ms, i) => [
    runs.length > 1 ? i * gap : WIDTH / 2,
    HEIGHT - PAD - ((ms - low) / spread) * (HEIGHT - 2 * PAD),
  ]);
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("class", "spark-line");
  line.setAttribute("fill", "none");
  line.setAttribute("vector-effect", "non-scaling-stroke");
  line.setAttribute("points", coords.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "));
  svg.append(line);
  runs.forEach(([, ok], i) => {
    if (ok) return;
    const dot = document.createElementNS(SVG, "line");
    const [x, y] = coords[i].map((v) => v.toFixed(1));
    dot.setAttribute("class", "spark-fail");
    dot.setAttribute("x1", x);
    dot.setAttribute("x2", x);
    dot.setAttribute("y1", y);
    dot.setAttribute("y2", y);
    dot.setAttribute("vector-effect", "non-scaling-stroke");
    svg.append(dot);
  });
}

export function pushSpark(svg, durationMs, ok) {
  if (!svg || durationMs === null || durationMs === undefined) return;
  const runs = parse(svg.dataset.points);
  runs.push([Number(durationMs), ok]);
  drawSpark(svg, runs.slice(-KEEP));
}
