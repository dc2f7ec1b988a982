// Every page: the theme toggle, relative times, and the live feed. Page modules
// (pages/*.js) register their live handlers while the document loads; the feed starts
// once they all have (DOMContentLoaded comes after every module script has run).
import { live } from "./live.js";
import { initThemeToggle } from "./theme.js";
import { startClock } from "./times.js";

initThemeToggle(document.getElementById("theme-toggle"));

function start() {
  startClock();
  const body = document.body;
  const kinds = (body.dataset.liveKinds || "").split(/\s+/).filter(Boolean);
  if (kinds.length) live.start(kinds, Number(body.dataset.lastEventId) || 0);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
