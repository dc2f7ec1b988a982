// Performance charts with plotly.js (loaded by this page only, from the plotly wheel):
// latency p50/p95/p99 and success rate of the chosen workflow or step over the window,
// from /api/v1/metrics/timeseries; anomalies from /api/v1/anomalies shaded when the
// analytics routes exist (data-anomalies is empty otherwise).
import { getJSON } from "../api.js";
import { clone, fill } from "../dom.js";
import { ms, ratio } from "../format.js";
import { refreshTimes } from "../times.js";

const section = document.getElementById("perf");
const Plotly = window.Plotly;
const LATENCY = [
  ["duration_p50", "p50", "--ph-connect", "solid"],
  ["duration_p95", "p95", "--ph-ttfb", "dash"],
  ["duration_p99", "p99", "--bad", "dot"],
];

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function layout(yTitle, extra = {}) {
  const fg = css("--fg");
  const grid = css("--border");
  return {
    margin: { l: 56, r: 12, t: 8, b: 36 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: css("--font"), color: fg, size: 12 },
    xaxis: { gridcolor: grid, linecolor: grid, zeroline: false, type: "date" },
    yaxis: { gridcolor: grid, linecolor: grid, zeroline: false, title: { text: yTitle }, rangemode: "tozero" },
    legend: { orientation: "h", y: 1.12, x: 0 },
    hovermode: "x unified",
    hoverlabel: { bgcolor: css("--surface"), bordercolor: grid, font: { color: fg } },
    showlegend: true,
    ...extra,
  };
}

const CONFIG = { displayModeBar: false, responsive: true, displaylogo: false };

function seriesUrl(metric, step) {
  const params = new URLSearchParams({ workflow: section.dataset.workflow, metric, since: section.dataset.window });
  if (step) params.set("step", step);
  return `/api/v1/metrics/timeseries?${params}`;
}

async function anomalies(step) {
  const url = section.dataset.anomalies;
  if (!url) return null;
  const params = new URLSearchParams({ workflow: section.dataset.workflow, since: section.dataset.window, limit: "200" });
  try {
    const found = await getJSON(`${url}?${params}`);
    return found.filter((a) => (a.step || "") === (step || ""));
  } catch {
    return null; // the marks are extra: the charts stand without them
  }
}

// Series of the analytics: "success" (a rate), "duration" and "ttfb" (milliseconds).
const isRate = (a) => a.series === "success";

function shapes(found) {
  const colour = css("--warn");
  const now = new Date().toISOString();
  return found.map((a) => ({
    type: "rect",
    xref: "x",
    yref: "paper",
    x0: a.started_at,
    x1: a.ended_at || now,
    y0: 0,
    y1: 1,
    fillcolor: colour,
    opacity: 0.18,
    line: { width: 0 },
  }));
}

function listAnomalies(found) {
  const box = document.getElementById("anomalies");
  if (found === null) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const list = document.getElementById("anomaly-list");
  list.replaceChildren(
    ...found.map((a) => {
      const value = isRate(a) ? ratio(a.value) : ms(a.value);
      const what = `${a.reason} (${value}, ${a.open ? "still open" : "ended"})`;
      return fill(clone("anomaly-item"), { series: a.series, what, started_at: a.started_at });
    }),
  );
  document.getElementById("anomaly-empty").hidden = found.length > 0;
  refreshTimes(list);
}

function empty(yTitle) {
  return layout(yTitle, {
    annotations: [{ text: "No runs in this window", showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { color: css("--muted"), size: 14 } }],
    xaxis: { visible: false },
    yaxis: { visible: false },
  });
}

let last = null; // what is drawn, to redraw on a theme change

async function draw() {
  const step = document.getElementById("perf-series").value;
  const error = document.getElementById("chart-error");
  const charts = [document.getElementById("chart-latency"), document.getElementById("chart-success")];
  for (const chart of charts) {
    chart.classList.add("skeleton");
    chart.setAttribute("aria-busy", "true");
  }
  error.hidden = true;
  let series;
  let marks;
  try {
    [series, marks] = await Promise.all([
      Promise.all([...LATENCY.map(([metric]) => getJSON(seriesUrl(metric, step))), getJSON(seriesUrl("success_rate", step))]),
      anomalies(step),
    ]);
  } catch (failure) {
    error.querySelector(".chart-error-text").textContent = `The chart data could not be loaded: ${failure.message}`;
    error.hidden = false;
    return;
  }
  last = { series, marks };
  render();
  listAnomalies(marks);
  for (const chart of charts) {
    chart.classList.remove("skeleton");
    chart.removeAttribute("aria-busy");
  }
}

function render() {
  if (!last) return;
  const { series, marks } = last;
  const latency = LATENCY.map(([, name, colour, dash], i) => ({
    type: "scatter",
    mode: "lines+markers",
    name,
    x: series[i].points.map((p) => p.t),
    y: series[i].points.map((p) => p.value),
    line: { color: css(colour), width: 2, dash },
    marker: { size: 4 },
    hovertemplate: `${name} %{y:.0f} ms<extra></extra>`,
  }));
  const rate = series[3].points;
  const success = [{
    type: "scatter",
    mode: "lines+markers",
    name: "success",
    x: rate.map((p) => p.t),
    y: rate.map((p) => (p.value === null ? null : p.value * 100)),
    customdata: rate.map((p) => p.count),
    line: { color: css("--ok"), width: 2 },
    marker: { size: 4 },
    fill: "tozeroy",
    fillcolor: "rgba(46,160,90,0.12)",
    hovertemplate: "%{y:.2f} % of %{customdata} runs<extra></extra>",
  }];
  const hasData = rate.length > 0;
  const latencyMarks = shapes((marks || []).filter((a) => !isRate(a)));
  const latencyLayout = hasData ? layout("ms", { shapes: latencyMarks }) : empty("ms");
  const lowest = Math.min(100, ...success[0].y.filter((v) => v !== null));
  const successLayout = hasData
    ? layout("%", {
      showlegend: false,
      shapes: shapes((marks || []).filter(isRate)),
      yaxis: { ...layout("%").yaxis, rangemode: "normal", range: [Math.max(0, Math.floor(lowest) - 2), 100.5] },
    })
    : empty("%");
  Plotly.react("chart-latency", latency, latencyLayout, CONFIG);
  Plotly.react("chart-success", success, successLayout, CONFIG);
}

if (section && Plotly) {
  document.getElementById("perf-series").addEventListener("change", draw);
  document.getElementById("chart-retry").addEventListener("click", draw);
  document.addEventListener("wfmon:theme", render);
  draw();
} else if (section && document.getElementById("chart-error")) {
  const error = document.getElementById("chart-error");
  error.querySelector(".chart-error-text").textContent = "The chart library did not load.";
  error.hidden = false;
}
