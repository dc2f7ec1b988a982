// Numbers and times as the server writes them (web/render.py), for values that arrive live.

export const DASH = "—";

export function ms(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return DASH;
  if (value === 0) return "0 ms";
  if (value < 10) return `${value.toFixed(1)} ms`;
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60000) return `${(value / 1000).toFixed(2)} s`;
  const total = Math.round(value / 1000);
  return `${Math.floor(total / 60)} min ${total % 60} s`;
}

export function ratio(value) {
  if (value === null || value === undefined) return DASH;
  const percent = value * 100;
  if (percent >= 99.995 || percent === 0) return `${Math.round(percent)} %`;
  return `${percent.toFixed(2)} %`;
}

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS = [
  ["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
  ["hour", 3600], ["minute", 60], ["second", 1],
];

export function localTime(date) {
  return absolute.format(date);
}

/** "3 minutes ago", "in 2 hours", "now". */
export function ago(date, now = Date.now()) {
  const seconds = (date.getTime() - now) / 1000;
  if (Math.abs(seconds) < 5) return "just now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return relative.format(Math.round(seconds / size), unit);
    }
  }
  return DASH;
}

export function words(value) {
  return value === null || value === undefined ? "" : String(value).replaceAll("_", " ");
}

export function title(value) {
  const text = words(value).toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}
