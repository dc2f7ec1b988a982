// <time datetime=... data-rel> elements: relative text ("5 minutes ago"), local time in the
// tooltip, refreshed every 30 s.
import { ago, localTime, DASH } from "./format.js";

export function setTime(el, iso) {
  if (!iso) {
    el.removeAttribute("datetime");
    el.textContent = DASH;
    el.removeAttribute("title");
    return;
  }
  el.setAttribute("datetime", iso);
  renderTime(el);
}

function renderTime(el) {
  const iso = el.getAttribute("datetime");
  if (!iso) return;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return;
  el.textContent = ago(date);
  el.title = localTime(date);
}

export function refreshTimes(root = document) {
  for (const el of root.querySelectorAll("time[data-rel]")) renderTime(el);
}

export function startClock() {
  refreshTimes();
  window.setInterval(() => refreshTimes(), 30000);
}
