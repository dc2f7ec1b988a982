"""Prometheus metrics at `/metrics`, on a registry of this app's own (not the global one,
so two apps in one process, as in tests, never share or clash).

Counters and histograms follow the live feed (every `execution.finished` in the event
log, whichever process recorded it), so a separate API process reports the daemon's runs
too; they start at zero with the process, as Prometheus expects of counters. Gauges are
set from the overview (cached) at scrape time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from wfmon.api.feed import FeedEvent
from wfmon.api.schemas import OverviewOut

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

Depth = Callable[[], Awaitable[int | None]]


class ApiMetrics:
    def __init__(self, *, alerting: bool = False, outbox_depth: Depth | None = None) -> None:
        """`alerting`: export firing alerts (only when alerting is installed: a constant 0
        would read as "nothing firing"); `outbox_depth`: reads the notification outbox."""
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.executions = Counter(
            "wfmon_executions",
            "Executions finished, by workflow and status",
            ["workflow", "status"],
            registry=r,
        )
        self.execution_seconds = Histogram(
            "wfmon_execution_duration_seconds",
            "Duration of finished executions",
            ["workflow"],
            buckets=SECONDS,
            registry=r,
        )
        self.step_seconds = Histogram(
            "wfmon_step_duration_seconds",
            "Duration of steps of finished executions",
            ["workflow", "step"],
            buckets=SECONDS,
            registry=r,
        )
        self.workflow_up = Gauge(
            "wfmon_workflow_up",
            "1 if the workflow's latest run succeeded, 0 if it did not",
            ["workflow"],
            registry=r,
        )
        self.alerts_firing = (
            Gauge("wfmon_alerts_firing", "Alerts firing now", registry=r) if alerting else None
        )
        self.scheduler_lag = Gauge(
            "wfmon_scheduler_lag_seconds",
            "How late slots start (the daemon's latest lag check)",
            ["quantile"],
            registry=r,
        )
        self.outbox = (
            Gauge("wfmon_notification_outbox_depth", "Notifications waiting to be sent", registry=r)
            if outbox_depth is not None
            else None
        )
        self.heartbeat_age = Gauge(
            "wfmon_daemon_heartbeat_age_seconds", "Seconds since the daemon's heartbeat", registry=r
        )
        self.check_ok = Gauge(
            "wfmon_health_check_ok", "1 if the self health check passed", ["check"], registry=r
        )
        self.live_clients = Gauge(
            "wfmon_live_clients", "Connected SSE and WebSocket clients", registry=r
        )
        self._outbox_depth = outbox_depth

    def observe(self, event: FeedEvent) -> None:
        """A feed listener: count finished executions and their durations."""
        if event.kind != "execution.finished":
            return
        data = event.data
        workflow = data.get("workflow")
        status = data.get("status")
        if not isinstance(workflow, str) or not isinstance(status, str):
            return
        self.executions.labels(workflow, status).inc()
        duration = data.get("duration_ms")
        if isinstance(duration, int | float) and status != "missed":
            self.execution_seconds.labels(workflow).observe(duration / 1000.0)
        steps = data.get("steps")
        if isinstance(steps, list):
            for step in steps:
                if not isinstance(step, dict):
                    continue
                name, ms = step.get("name"), step.get("duration_ms")
                counted = step.get("status") != "skipped"
                if isinstance(name, str) and isinstance(ms, int | float) and counted:
                    self.step_seconds.labels(workflow, name).observe(ms / 1000.0)

    async def refresh(self, overview: OverviewOut, now: datetime, clients: int) -> None:
        self.workflow_up.clear()
        for wf in overview.workflows:
            if wf.last_status in ("succeeded",):
                self.workflow_up.labels(wf.name).set(1)
            elif wf.last_status is not None and wf.last_status != "running":
                self.workflow_up.labels(wf.name).set(0)
        system = overview.system
        if self.alerts_firing is not None and overview.counts.firing_alerts is not None:
            self.alerts_firing.set(overview.counts.firing_alerts)
        if system.scheduler_lag is not None:
            for q, value in (
                ("0.5", system.scheduler_lag.p50_s),
                ("0.99", system.scheduler_lag.p99_s),
            ):
                if value is not None:
                    self.scheduler_lag.labels(q).set(value)
        if system.daemon is not None:
            self.heartbeat_age.set((now - system.daemon.last_heartbeat).total_seconds())
        self.check_ok.clear()
        for check in system.health_checks:
            self.check_ok.labels(check.name).set(1 if check.ok else 0)
        self.live_clients.set(clients)
        if self._outbox_depth is not None and self.outbox is not None:
            depth = await self._outbox_depth()
            if depth is not None:
                self.outbox.set(depth)

    def render(self) -> bytes:
        return generate_latest(self.registry)
