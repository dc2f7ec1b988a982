// The overview, live: a finished run updates its workflow's card and sparkline and the
// latest-runs table at once; states, counts and health come from /api/v1/overview (at
// most twice a second, and every 30 s for what has no event, like a stale heartbeat); the
// insights panel (incidents, workflows at risk, open anomalies) after runs, at most every 10 s.
import { getJSON } from "../api.js";
import { childBy, clone, debounce, fill, toast } from "../dom.js";
import { insightsPanel } from "../insights.js";
import { live } from "../live.js";
import { runFromEvent, upsertRun } from "../runs.js";
import { pushSpark } from "../sparkline.js";

const RECENT_MAX = 10;
const FIRING_MAX = 10;
const grid = document.getElementById("wf-grid");
const health = document.getElementById("health");
const recent = document.getElementById("recent");
const firing = document.getElementById("firing");
let failures = 0;

function showError(message) {
  failures += 1;
  if (failures === 1 || failures % 10 === 0) toast(`Could not refresh the overview: ${message}`, "error");
}

function updateCard(card, w) {
  fill(card, w);
  const error = card.querySelector(".wf-error");
  if (error) error.hidden = !(w.last_error && w.state === "failing");
}

async function refreshOverview() {
  if (document.hidden) return; // a background tab catches up with the next event or tick
  let o;
  try {
    o = await getJSON("/api/v1/overview");
  } catch (error) {
    showError(error.message);
    return;
  }
  failures = 0;
  health.dataset.level = o.system.level;
  fill(health, o);
  const reasons = document.getElementById("reasons");
  reasons.replaceChildren(
    ...o.system.reasons.map((r) => {
      const li = document.createElement("li");
      li.dataset.level = r.level;
      li.textContent = r.message;
      return li;
    }),
  );
  const names = new Set();
  for (const w of o.workflows) {
    names.add(w.name);
    let card = childBy(grid, "workflow", w.name);
    if (!card) {
      card = clone("wf-card");
      card.dataset.workflow = w.name;
      grid.append(card);
    }
    updateCard(card, w);
  }
  for (const card of [...grid.children]) if (!names.has(card.dataset.workflow)) card.remove();
  document.getElementById("wf-empty").hidden = o.workflows.length > 0;
}

async function refreshFiring() {
  let found;
  try {
    found = await getJSON(`/api/v1/alerts?state=firing&limit=${FIRING_MAX}`);
  } catch (error) {
    showError(error.message);
    return;
  }
  firing.replaceChildren(
    ...found.items.map((a) => {
      const row = fill(clone("firing-row"), a);
      row.dataset.id = String(a.id);
      return row;
    }),
  );
  firing.parentElement.querySelector(".empty").hidden = found.items.length > 0;
}

const overviewSoon = debounce(refreshOverview, 500);
const firingSoon = debounce(refreshFiring, 300);
const insightsSoon = insightsPanel(document.getElementById("insights"));

live.on("execution.finished", (data) => {
  const run = runFromEvent(data);
  upsertRun(recent, run, RECENT_MAX);
  const card = childBy(grid, "workflow", run.workflow);
  if (card) {
    fill(card, { last_status: run.status, last_run_at: run.started_at });
    pushSpark(card.querySelector("svg.spark"), run.duration_ms, run.status === "succeeded");
  }
  overviewSoon();
  insightsSoon();
});
live.on("alert.changed", () => {
  firingSoon();
  overviewSoon();
});
live.on("health.changed", overviewSoon);
live.on("workflow.changed", overviewSoon);
window.setInterval(refreshOverview, 30000);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refreshOverview();
});
