// Alerts: acknowledge and resolve through the JSON API (with the CSRF header), cards move
// between firing / acknowledged / resolved live, the history loads when opened.
import { getJSON, send } from "../api.js";
import { childBy, clone, fill, skeleton, toast } from "../dom.js";
import { live } from "../live.js";
import { refreshTimes } from "../times.js";

const single = document.querySelector(".alert-stack.single");
const DONE = { ack: "Acknowledged", resolve: "Resolved" };

function cardOf(id) {
  for (const stack of document.querySelectorAll(".alert-stack")) {
    const card = childBy(stack, "id", id);
    if (card) return card;
  }
  return null;
}

function updateCounts() {
  for (const section of document.querySelectorAll(".alert-section")) {
    const stack = section.querySelector(".alert-stack");
    const count = stack.children.length;
    section.querySelector(".empty").hidden = count > 0;
    const badge = document.querySelector(`.count[data-count="${section.dataset.state}"]`);
    if (badge) badge.textContent = String(count);
  }
}

function setIds(card, id) {
  card.dataset.id = String(id);
  card.id = `alert-${id}`;
  const form = card.querySelector(".alert-actions");
  if (form) {
    form.dataset.alertId = String(id);
    form.action = `/alerts/${id}/ack`;
    for (const button of form.querySelectorAll("button[data-action]")) {
      button.setAttribute("formaction", `/alerts/${id}/${button.dataset.action}`);
    }
  }
  card.querySelector(".history").dataset.alertId = String(id);
}

function apply(alert) {
  let card = cardOf(alert.id);
  if (!card) {
    if (single) return; // the single alert page shows one alert only
    card = clone("alert-card");
    setIds(card, alert.id);
  }
  fill(card, alert);
  card.dataset.state = alert.state;
  if (!single) {
    const stacks = [...document.querySelectorAll(".alert-stack")];
    const stack = stacks.find((s) => s.dataset.state === alert.state);
    if (stack && card.parentElement !== stack) stack.prepend(card);
    updateCounts();
  }
  const history = card.querySelector(".history");
  if (history.open) loadHistory(history);
  if (single) loadEvents(document.getElementById("events"), alert.id);
}

async function loadEvents(list, id) {
  const found = await getJSON(`/api/v1/alerts/${id}/events`);
  list.replaceChildren(...found.items.map((ev) => {
    const item = fill(clone("event-item"), ev);
    item.dataset.kind = ev.kind;
    item.querySelector(".event-note").hidden = !ev.note;
    return item;
  }));
  refreshTimes(list);
}

async function loadHistory(details) {
  const body = details.querySelector(".history-body");
  if (body.dataset.loading === "true") return;
  body.dataset.loading = "true";
  if (!body.querySelector(".events")) skeleton(body, 3);
  try {
    const list = document.createElement("ol");
    list.className = "events";
    await loadEvents(list, details.dataset.alertId);
    body.replaceChildren(list);
    if (!list.children.length) body.textContent = "No events recorded.";
  } catch (error) {
    const message = document.createElement("p");
    message.className = "notice error";
    message.textContent = `The history could not be loaded: ${error.message} `;
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button small";
    retry.textContent = "Try again";
    retry.addEventListener("click", () => loadHistory(details));
    message.append(retry);
    body.replaceChildren(message);
  } finally {
    body.removeAttribute("aria-busy");
    body.dataset.loading = "false";
  }
}

document.addEventListener(
  "toggle",
  (event) => {
    const details = event.target;
    if (details.matches && details.matches("details.history") && details.open) loadHistory(details);
  },
  true,
);

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.matches(".alert-actions")) return;
  event.preventDefault();
  const action = event.submitter && event.submitter.dataset.action === "resolve" ? "resolve" : "ack";
  const id = form.dataset.alertId;
  const note = form.elements.note.value.trim();
  const error = form.querySelector(".form-error");
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  error.hidden = true;
  try {
    const result = await send("POST", `/api/v1/alerts/${id}/${action}`, note ? { note } : {});
    form.elements.note.value = "";
    apply(result.alert);
    toast(result.changed ? `${DONE[action]}: alert #${id}` : `Nothing to do: ${result.reason.replaceAll("_", " ")}`);
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
});

live.on("alert.changed", async (data) => {
  try {
    apply(await getJSON(`/api/v1/alerts/${data.alert_id}`));
  } catch (error) {
    toast(`Could not refresh alert #${data.alert_id}: ${error.message}`, "error");
  }
});
