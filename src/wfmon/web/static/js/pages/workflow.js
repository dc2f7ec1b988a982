// One workflow: its recent runs and sparkline live, its prediction and open anomalies
// (insights.js) after its runs; "Run now" through the JSON API.
import { send } from "../api.js";
import { toast } from "../dom.js";
import { insightsPanel } from "../insights.js";
import { live } from "../live.js";
import { runFromEvent, upsertRun } from "../runs.js";
import { pushSpark } from "../sparkline.js";

const page = document.getElementById("workflow");
const name = page.dataset.workflow;
const table = document.getElementById("wf-runs");
const MAX_ROWS = 15;
const insightsSoon = insightsPanel(document.getElementById("insights"));

live.on("execution.finished", (data) => {
  if (data.workflow !== name) return;
  const run = runFromEvent(data);
  upsertRun(table, run, MAX_ROWS);
  pushSpark(document.querySelector("svg.spark"), run.duration_ms, run.status === "succeeded");
  insightsSoon();
});

const form = document.getElementById("run-now");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const started = await send("POST", `/api/v1/workflows/${encodeURIComponent(name)}/run`);
      upsertRun(
        table,
        {
          id: started.execution_id,
          workflow: name,
          status: "running",
          location: started.location,
          trigger: "manual",
          started_at: new Date().toISOString(),
          duration_ms: null,
          error: "",
        },
        MAX_ROWS,
        { onlyNew: true },
      );
      toast(`Run #${started.execution_id} started.`);
    } catch (error) {
      if (error.status === 404) {
        // A name the JSON route cannot take in its path (one with "/"): post the form.
        form.submit();
        return;
      }
      toast(error.message, "error", 6000);
    } finally {
      button.disabled = false;
    }
  });
}
