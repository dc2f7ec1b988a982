// The analytics' insights panel (#insights) of the overview and of a workflow's page:
// incidents, failure predictions and open anomalies, from the routes its data- attributes
// name (data-incidents, data-predictions, data-anomalies: empty, and the box absent, when
// the app does not serve the route; data-workflow narrows everything to one workflow).
// Items are cloned from the page's <template>s and filled as text (dom.js `fill`), so a
// description naming "<script>…" stays words.
import { getJSON } from "./api.js";
import { clone, fill } from "./dom.js";

const SINCE = "24h";
const MAX_ITEMS = 10;
const EVERY_MS = 10000; // at most one refresh per 10 s, however many runs finish
const DELAY_MS = 1000; // after a run: the analytics record what it changed as it is stored

function percent(probability) {
  return `${Math.round(probability * 100)} %`;
}

function riskItem(p) {
  const runs = p.horizon_runs === 1 ? "the next run" : `one of the next ${p.horizon_runs} runs`;
  return fill(clone("risk-item"), {
    workflow: p.workflow,
    risk: p.at_risk ? "at_risk" : "not_at_risk",
    percent: percent(p.probability),
    chance: `chance that ${runs} fails`,
    reason: p.reason,
  });
}

function anomalyItem(a) {
  return fill(clone("anomaly-item"), {
    series: a.series,
    score: a.score.toFixed(2),
    started_at: a.started_at,
    reason: a.reason,
  });
}

function incidentItem(i) {
  const item = fill(clone("incident-item"), {
    state: i.open ? "open" : "ended",
    failures: i.failures,
    started_at: i.started_at,
    description: i.description,
  });
  const links = item.querySelector(".wf-links");
  i.workflows.forEach((name, n) => {
    if (n > 0) links.append(", ");
    links.append(fill(clone("insight-wf-link"), { workflow: name }));
  });
  item.querySelector(".insight-links").hidden = i.workflows.length === 0;
  return item;
}

function url(route, params, workflow) {
  const query = new URLSearchParams(params);
  if (workflow) query.set("workflow", workflow);
  return `${route}?${query}`;
}

async function load(box, route, items) {
  if (!box || !route) return;
  const list = box.querySelector(".insight-list");
  const status = box.querySelector(".insight-status");
  try {
    const shown = items(await getJSON(route)).slice(0, MAX_ITEMS);
    list.replaceChildren(...shown);
    status.hidden = true;
    box.querySelector(".empty").hidden = shown.length > 0;
  } catch (error) {
    status.textContent = `Could not load this: ${error.message}`; // the last list stays
    status.hidden = false;
  } finally {
    list.removeAttribute("aria-busy");
  }
}

/** Fetch every box of the panel again, side by side. */
export async function refreshInsights(panel) {
  const { incidents, predictions, anomalies, workflow } = panel.dataset;
  const box = (id) => document.getElementById(`${id}-box`);
  await Promise.all([
    load(box("incidents"), incidents && url(incidents, { since: SINCE, limit: "50" }, workflow), (found) =>
      [...found].sort((a, b) => Number(b.open) - Number(a.open)).map(incidentItem),
    ),
    load(box("at-risk"), predictions && url(predictions, {}, workflow), (found) =>
      found.filter((p) => p.at_risk).map(riskItem),
    ),
    load(box("prediction"), predictions && url(predictions, {}, workflow), (found) =>
      found.slice(0, 1).map(riskItem),
    ),
    load(box("open-anomalies"), anomalies && url(anomalies, { since: SINCE, limit: "200" }, workflow), (found) =>
      found.filter((a) => a.open).map(anomalyItem),
    ),
  ]);
}

/**
 * Load `panel` (if the page has one) now; returns `soon()` for the page's live events: a
 * refresh a second later, at most one per 10 s. A hidden tab refreshes once it is shown.
 */
export function insightsPanel(panel) {
  if (!panel) return () => {};
  let last = 0;
  let timer = 0;
  let stale = false;
  const run = () => {
    timer = 0;
    if (document.hidden) {
      stale = true;
      return;
    }
    last = Date.now();
    refreshInsights(panel);
  };
  const soon = () => {
    if (!timer) timer = window.setTimeout(run, Math.max(DELAY_MS, last + EVERY_MS - Date.now()));
  };
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && stale) {
      stale = false;
      soon();
    }
  });
  run();
  return soon;
}
