// One execution: while it is still running, reload when its result arrives.
import { live } from "../live.js";

const head = document.getElementById("execution");
if (head && head.dataset.status === "running") {
  live.on("execution.finished", (data) => {
    if (String(data.id) === head.dataset.id) window.location.reload();
  });
}
