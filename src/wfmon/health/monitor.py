"""Runs the self health checks on an interval and stores each as a health-check row."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiohttp

from wfmon import __version__
from wfmon.clock import Clock, sleep_or_event
from wfmon.errors import StorageError
from wfmon.events import Event, EventBus
from wfmon.health import checks
from wfmon.health.checks import CheckResult
from wfmon.scheduler.scheduler import Scheduler
from wfmon.storage import Database, HealthCheckRepository

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HealthOptions:
    interval_s: float = 300.0
    health_url: str | None = None
    data_dir: Path = Path(".wfmon")
    disk_min_free_mb: int = 500
    lag_warn_s: float = 5.0


class HealthMonitor:
    def __init__(
        self,
        *,
        db: Database,
        repo: HealthCheckRepository,
        scheduler: Scheduler,
        clock: Clock,
        options: HealthOptions,
        bus: EventBus | None = None,
        started_at: datetime,
    ) -> None:
        self._db = db
        self._repo = repo
        self._scheduler = scheduler
        self._clock = clock
        self.options = options
        self._bus = bus
        self._started_at = started_at
        self._last_ok: dict[str, bool] = {}

    async def run_once(self, session: aiohttp.ClientSession) -> list[CheckResult]:
        """Run every check, store each row, publish changes; returns the results."""
        now = self._clock.now()
        sched = self._scheduler
        results = [
            await checks.check_database(self._db),
            await checks.check_target(session, self.options.health_url, self._clock),
            checks.judge_lag(list(sched.stats.lags_s), self.options.lag_warn_s),
            checks.judge_backlog(sched.backlog, sched.in_flight, sched.options.max_concurrency),
            checks.check_disk(self.options.data_dir, self.options.disk_min_free_mb),
            self._heartbeat(now),
        ]
        for result in results:
            try:
                await self._repo.add(
                    now, result.name, result.ok, result.latency_ms, result.detail, result.data
                )
            except StorageError as error:
                log.error(
                    "cannot store health check %s: %s",
                    result.name,
                    error,
                    extra={"event": "health.store_failed"},
                )
            if not result.ok:
                log.warning(
                    "health check %s failed: %s",
                    result.name,
                    result.detail,
                    extra={"event": "health.failed", "check": result.name},
                )
            if self._bus is not None and self._last_ok.get(result.name) != result.ok:
                await self._bus.publish(
                    Event(
                        "health.changed",
                        {"name": result.name, "ok": result.ok, "detail": result.detail},
                    )
                )
            self._last_ok[result.name] = result.ok
        return results

    def _heartbeat(self, now: datetime) -> CheckResult:
        uptime = (now - self._started_at).total_seconds()
        stats = self._scheduler.stats
        return CheckResult(
            checks.HEARTBEAT,
            True,
            f"wfmon {__version__} (pid {os.getpid()}) up {uptime:,.0f} s",
            data={
                "instance": self._scheduler.options.instance,
                "pid": os.getpid(),
                "version": __version__,
                "started_at": self._started_at.isoformat(),
                "uptime_s": uptime,
                "interval_s": self.options.interval_s,
                "workflows": len({k[0] for k in self._scheduler.plans}),
                "claimed": stats.claimed,
                "finished": stats.finished,
                "missed": stats.missed,
            },
        )

    async def run_forever(self, stop: asyncio.Event) -> None:
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                await self.run_once(session)
                await sleep_or_event(self._clock, self.options.interval_s, stop)
