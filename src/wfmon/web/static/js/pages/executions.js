// The executions table, live on its first page: a finished run that matches the filters
// appears at the top; a running one shown already is updated in place. (The filters apply
// with the Apply button, not on every change: a keyboard user moving through a select or
// the status chips would otherwise reload the page at each step.)
import { live } from "../live.js";
import { hasRun, runFromEvent, upsertRun } from "../runs.js";

const list = document.getElementById("exec-list");
const table = document.getElementById("executions");
const statuses = (list.dataset.statuses || "").split(" ").filter(Boolean);
const limit = Number(list.dataset.limit) || 50;

function matches(run) {
  if (list.dataset.workflow && run.workflow !== list.dataset.workflow) return false;
  if (list.dataset.location && run.location !== list.dataset.location) return false;
  if (statuses.length && !statuses.includes(run.status)) return false;
  return true;
}

live.on("execution.finished", (data) => {
  const run = runFromEvent(data);
  if (hasRun(table, run.id) || (list.dataset.live === "true" && matches(run))) {
    upsertRun(table, run, limit);
  }
});
