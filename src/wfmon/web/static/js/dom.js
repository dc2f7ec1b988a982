// Filling server-made markup with data. Values only ever reach the page as text
// (textContent) or attribute values: never as HTML, so a workflow called
// "<script>alert(1)</script>" stays a name.
import * as format from "./format.js";
import { setTime } from "./times.js";

/** data["a.b"] for the path "a.b"; undefined when a part is missing. */
export function pick(data, path) {
  let value = data;
  for (const key of path.split(".")) {
    if (value === null || value === undefined || typeof value !== "object") return undefined;
    value = value[key];
  }
  return value;
}

/** "/executions/{id}" with each {name} replaced by the URL-encoded value (null if missing). */
export function link(pattern, data) {
  let missing = false;
  const href = pattern.replace(/\{([\w.]+)\}/g, (_, key) => {
    const value = pick(data, key);
    if (value === null || value === undefined || value === "") missing = true;
    return encodeURIComponent(String(value));
  });
  return missing ? null : href;
}

const FORMATS = {
  ms: format.ms,
  ratio: format.ratio,
  id: (v) => `#${v}`,
  count: (v) => (v === null ? format.DASH : String(v)),
  level: format.title,
  alive: (v) => (v ? "running" : "not seen"),
};

function setSlot(el, value, kind) {
  if (kind === "time") {
    setTime(el, value);
    return;
  }
  const render = FORMATS[kind];
  el.textContent = render ? render(value) : value === null ? "" : String(value);
}

/**
 * Fill `root` and its descendants from `data`: [data-slot] gets the formatted text,
 * [data-link] an href, [data-badge] a data-status attribute and its words. Keys absent
 * from `data` leave the element as it was (partial updates).
 */
export function fill(root, data) {
  const found = root.querySelectorAll("[data-slot], [data-link], [data-badge]");
  for (const el of [root, ...found]) {
    const slot = el.dataset.slot;
    if (slot !== undefined) {
      const value = pick(data, slot);
      if (value !== undefined) setSlot(el, value, el.dataset.format);
    }
    if (el.dataset.link) {
      const href = link(el.dataset.link, data);
      if (href !== null) el.setAttribute("href", href);
    }
    const badge = el.dataset.badge;
    if (badge !== undefined) {
      const value = pick(data, badge);
      if (value !== undefined) {
        el.dataset.status = value ?? "";
        el.textContent = value ? format.words(value) : badge === "status" || badge.endsWith("_status") ? "no runs" : "";
      }
    }
  }
  return root;
}

/** A fresh copy of the first element of <template id=...>. */
export function clone(id) {
  const template = document.getElementById(id);
  if (!template) throw new Error(`no template #${id}`);
  return template.content.firstElementChild.cloneNode(true);
}

/** The child of `parent` whose data-<key> is `value` (no selector built from data). */
export function childBy(parent, key, value) {
  for (const el of parent.children) if (el.dataset[key] === String(value)) return el;
  return null;
}

export function toast(message, kind = "info", ms = 4000) {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = document.createElement("div");
  item.className = "toast";
  item.dataset.kind = kind;
  item.textContent = message;
  box.append(item);
  window.setTimeout(() => item.remove(), ms);
}

/** Run `fn` at most once per `wait` ms, at the end of a burst of calls. */
export function debounce(fn, wait) {
  let timer = 0;
  return (...args) => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => fn(...args), wait);
  };
}

export function skeleton(container, lines = 3) {
  container.replaceChildren();
  container.setAttribute("aria-busy", "true");
  for (let i = 0; i < lines; i += 1) {
    const line = document.createElement("div");
    line.className = `skeleton skeleton-line${i === lines - 1 ? " short" : ""}`;
    container.append(line);
  }
}
