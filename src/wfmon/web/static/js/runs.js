// Tables of executions (macros.html `runs_table`): a finished run is updated in place if
// its row is there (it was running), or added at the top.
import { clone, fill } from "./dom.js";

/** What an execution.finished event says, in the shape of an ExecutionSummaryOut row. */
export function runFromEvent(data) {
  return {
    id: data.id,
    workflow: data.workflow,
    status: data.status,
    location: data.location,
    trigger: data.trigger ?? "",
    started_at: data.started_at ?? data.slot_at ?? null,
    duration_ms: data.duration_ms ?? null,
    error: data.error ?? "",
  };
}

function rowOf(tbody, id) {
  for (const row of tbody.rows) if (row.dataset.id === String(id)) return row;
  return null;
}

/**
 * Update or add the row of `run` in the table; keep at most `max` rows. With `onlyNew`,
 * a row already there is left alone: a run's result can arrive live before the answer
 * that started it, and "running" must not overwrite it.
 */
export function upsertRun(table, run, max, { onlyNew = false } = {}) {
  if (!table || run.id === undefined || run.id === null) return null;
  const tbody = table.tBodies[0];
  let row = rowOf(tbody, run.id);
  if (row && onlyNew) return row;
  if (!row) {
    row = clone(`${table.id}-row`);
    row.dataset.id = String(run.id);
    tbody.prepend(row);
    row.classList.add("fresh");
    while (max && tbody.rows.length > max) tbody.rows[tbody.rows.length - 1].remove();
  }
  fill(row, run);
  const empty = table.closest(".table-wrap").querySelector(".empty");
  if (empty) empty.hidden = true;
  return row;
}

export function hasRun(table, id) {
  return Boolean(table && rowOf(table.tBodies[0], id));
}
