// The live feed: one EventSource on /api/v1/events for the kinds this page wants, and the
// indicator in the header that says whether the page is live.
//
// Resuming: the page knows the feed position it was rendered at (body[data-last-event-id]),
// so the first connection asks for everything after it; later, each event's id is kept.
// The browser reconnects by itself after a dropped connection (sending Last-Event-ID, the
// server's `retry: 2000`); when it gives up (an HTTP error, the server gone for long) we
// open a new one with exponential backoff and jitter, 1 s doubling to 30 s, and at once
// when the network comes back or the indicator is clicked. A session that ended (401) is
// said so, not retried forever.

const MAX_DELAY_MS = 30000;
const BROWSER_RETRIES = 3; // failed automatic reconnects before we take over
const STATES = {
  connecting: "connecting",
  live: "on",
  reconnecting: "reconnecting",
  offline: "off",
};

export class LiveFeed {
  constructor(button) {
    this.button = button;
    this.text = button ? button.querySelector(".live-text") : null;
    this.handlers = new Map();
    this.lastId = 0;
    this.kinds = [];
    this.source = null;
    this.attempt = 0;
    this.browserRetries = 0;
    this.timer = 0;
    this.countdown = 0;
    this.state = "";
    if (button) button.addEventListener("click", () => this.reconnectNow());
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.show("offline", "Offline"));
  }

  /** Call `fn(data, id)` for each event of `kind`. */
  on(kind, fn) {
    if (!this.handlers.has(kind)) this.handlers.set(kind, []);
    this.handlers.get(kind).push(fn);
  }

  start(kinds, lastId) {
    this.kinds = kinds;
    this.lastId = lastId || 0;
    this.connect();
  }

  connect() {
    this.close();
    const params = new URLSearchParams();
    for (const kind of this.kinds) params.append("kind", kind);
    if (this.lastId) params.set("last_event_id", String(this.lastId));
    const source = new EventSource(`/api/v1/events?${params}`);
    this.source = source;
    this.show(this.attempt ? "reconnecting" : "connecting", this.attempt ? "Reconnecting…" : "Connecting…");
    source.onopen = () => {
      this.attempt = 0;
      this.browserRetries = 0;
      this.show("live", "Live");
    };
    source.onerror = () => this.failed(source);
    for (const kind of this.kinds) {
      source.addEventListener(kind, (event) => this.receive(kind, event));
    }
  }

  receive(kind, event) {
    const id = Number(event.lastEventId) || 0;
    if (id && id <= this.lastId) return; // seen already (a resume overlaps)
    if (id) this.lastId = id;
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    for (const fn of this.handlers.get(kind) || []) {
      try {
        fn(data, id);
      } catch (error) {
        console.error("live update failed", kind, error);
      }
    }
  }

  failed(source) {
    if (source !== this.source) return;
    if (source.readyState === EventSource.CONNECTING && this.browserRetries < BROWSER_RETRIES) {
      this.browserRetries += 1; // the browser retries by itself, resuming from Last-Event-ID
      this.show("reconnecting", "Reconnecting…");
      return;
    }
    this.close();
    this.checkSession().then((ok) => {
      if (ok) this.schedule();
      else this.show("offline", "Logged out: reload");
    });
  }

  async checkSession() {
    try {
      const response = await fetch("/api/v1/auth/session", { credentials: "same-origin" });
      return response.status !== 401;
    } catch {
      return true; // unreachable: keep trying
    }
  }

  schedule() {
    const base = Math.min(MAX_DELAY_MS, 1000 * 2 ** this.attempt);
    const delay = Math.round(base * (0.5 + Math.random() / 2));
    this.attempt += 1;
    const due = Date.now() + delay;
    const tick = () => {
      const left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
      this.show("reconnecting", `Reconnecting in ${left} s`);
    };
    tick();
    this.countdown = window.setInterval(tick, 1000);
    this.timer = window.setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.state === "live") return;
    this.attempt = 0;
    this.browserRetries = 0;
    this.connect();
  }

  close() {
    window.clearTimeout(this.timer);
    window.clearInterval(this.countdown);
    if (this.source) {
      this.source.onerror = null;
      this.source.close();
      this.source = null;
    }
  }

  show(state, label) {
    const changed = state !== this.state;
    this.state = state;
    if (!this.button) return;
    this.button.dataset.state = state;
    if (this.text && this.text.textContent !== label) this.text.textContent = label;
    // Screen readers hear state changes, not the countdown's every second.
    const status = this.button.querySelector(".live-status");
    if (status && (changed || !status.textContent)) status.textContent = `Live updates: ${STATES[state]}`;
  }
}

export const live = new LiveFeed(document.getElementById("live"));
