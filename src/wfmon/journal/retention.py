"""Retention: raw executions for N days, rollups far longer, pruned in the background.

What is deleted is a pure function of the policy and `now` (`RetentionPolicy.cutoffs`);
`Retention.run` applies it every `interval_s`, in small batches with a pause between them
so the recorder's writes are never held up for long.

Defaults (overridable through the environment, see `from_env`):

| data | kept | variable |
|---|---|---|
| executions and their steps | 30 days | WFMON_RETENTION_DAYS |
| health checks | as long as executions | |
| per-minute rollups | as long as executions | WFMON_RETENTION_MINUTE_ROLLUP_DAYS |
| per-hour rollups | 400 days | WFMON_RETENTION_ROLLUP_DAYS |
| event log (SSE resume) | 24 hours | WFMON_RETENTION_EVENT_HOURS |
| expired login sessions | until their absolute expiry | |
| notifications sent or given up on | 90 days | WFMON_RETENTION_NOTIFICATION_DAYS |
| resolved alerts with their audit trail | 400 days | WFMON_RETENTION_ALERT_DAYS |
| ended anomaly episodes and incidents | as long as hourly rollups | |
| hourly report files in the data directory | as long as executions | |

Firing and acknowledged alerts, pending notifications, open anomalies and incidents and
running executions are never pruned, whatever their age.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from wfmon.clock import Clock, sleep_or_event
from wfmon.errors import StorageError
from wfmon.storage.accounts import SessionRepository
from wfmon.storage.db import Database
from wfmon.storage.event_log import EventLogRepository
from wfmon.storage.retention import (
    prune_analytics,
    prune_executions,
    prune_health_checks,
    prune_notifications,
    prune_resolved_alerts,
)
from wfmon.storage.rollups import RollupRepository

log = logging.getLogger(__name__)

_Step = Callable[[], Awaitable[int]]


@dataclass(frozen=True)
class Cutoffs:
    """Everything older than these goes."""

    executions: datetime
    health_checks: datetime
    minute_rollups: datetime
    hour_rollups: datetime
    events: datetime
    sessions: datetime
    notifications: datetime
    alerts: datetime
    analytics: datetime


@dataclass(frozen=True)
class RetentionPolicy:
    executions_days: float = 30.0
    minute_rollups_days: float | None = None  # None: as long as executions
    hour_rollups_days: float = 400.0
    event_hours: float = 24.0
    notification_days: float = 90.0
    alert_days: float = 400.0
    interval_s: float = 600.0
    batch: int = 2000
    pause_s: float = 0.05

    def __post_init__(self) -> None:
        for name in (
            "executions_days",
            "hour_rollups_days",
            "event_hours",
            "notification_days",
            "alert_days",
            "interval_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.minute_rollups_days is not None and self.minute_rollups_days <= 0:
            raise ValueError("minute_rollups_days must be positive")

    def cutoffs(self, now: datetime) -> Cutoffs:
        raw = now - timedelta(days=self.executions_days)
        minute_days = self.minute_rollups_days or self.executions_days
        return Cutoffs(
            executions=raw,
            health_checks=raw,
            minute_rollups=now - timedelta(days=minute_days),
            hour_rollups=now - timedelta(days=self.hour_rollups_days),
            events=now - timedelta(hours=self.event_hours),
            sessions=now,
            notifications=now - timedelta(days=self.notification_days),
            alerts=now - timedelta(days=self.alert_days),
            analytics=now - timedelta(days=self.hour_rollups_days),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetentionPolicy:
        env = os.environ if environ is None else environ

        def number(name: str) -> float | None:
            text = env.get(name)
            if not text:
                return None
            try:
                return float(text)
            except ValueError as error:
                raise ValueError(f"{name}={text!r} is not a number") from error

        defaults = cls()
        return cls(
            executions_days=number("WFMON_RETENTION_DAYS") or defaults.executions_days,
            minute_rollups_days=number("WFMON_RETENTION_MINUTE_ROLLUP_DAYS"),
            hour_rollups_days=number("WFMON_RETENTION_ROLLUP_DAYS") or defaults.hour_rollups_days,
            event_hours=number("WFMON_RETENTION_EVENT_HOURS") or defaults.event_hours,
            notification_days=number("WFMON_RETENTION_NOTIFICATION_DAYS")
            or defaults.notification_days,
            alert_days=number("WFMON_RETENTION_ALERT_DAYS") or defaults.alert_days,
        )


@dataclass
class PruneReport:
    executions: int = 0
    health_checks: int = 0
    minute_rollups: int = 0
    hour_rollups: int = 0
    events: int = 0
    sessions: int = 0
    notifications: int = 0
    alerts: int = 0
    analytics: int = 0

    @property
    def total(self) -> int:
        return sum(vars(self).values())


class Retention:
    """Prunes on an interval; run `run(stop)` as a daemon service."""

    def __init__(self, db: Database, clock: Clock, policy: RetentionPolicy | None = None) -> None:
        self._db = db
        self._clock = clock
        self.policy = policy or RetentionPolicy()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                report = await self.prune_once(stop)
            except StorageError as error:
                log.error("retention failed: %s", error, extra={"event": "retention.failed"})
            else:
                if report.total:
                    log.info(
                        "retention removed %d row(s)",
                        report.total,
                        extra={"event": "retention.pruned", **vars(report)},
                    )
            await sleep_or_event(self._clock, self.policy.interval_s, stop)

    async def prune_once(self, stop: asyncio.Event | None = None) -> PruneReport:
        """Delete everything past its cutoff at `now`, batch by batch."""
        cut = self.policy.cutoffs(self._clock.now())
        report = PruneReport()
        report.executions = await self._drain(
            lambda: prune_executions(self._db, cut.executions, self.policy.batch), stop
        )
        report.health_checks = await self._drain(
            lambda: prune_health_checks(self._db, cut.health_checks, self.policy.batch), stop
        )
        rollups = RollupRepository(self._db)
        report.minute_rollups = await rollups.prune("minute", cut.minute_rollups)
        report.hour_rollups = await rollups.prune("hour", cut.hour_rollups)
        events = EventLogRepository(self._db)
        report.events = await self._drain(lambda: events.prune(cut.events, self.policy.batch), stop)
        report.sessions = await SessionRepository(self._db).delete_expired(cut.sessions)
        batch = self.policy.batch
        report.notifications = await self._drain(
            lambda: prune_notifications(self._db, cut.notifications, batch), stop
        )
        report.alerts = await self._drain(
            lambda: prune_resolved_alerts(self._db, cut.alerts, batch), stop
        )
        report.analytics = await self._drain(
            lambda: prune_analytics(self._db, cut.analytics, batch), stop
        )
        return report

    async def _drain(self, step: _Step, stop: asyncio.Event | None) -> int:
        total = 0
        while stop is None or not stop.is_set():
            removed = await step()
            total += removed
            if removed < self.policy.batch:
                break
            await self._clock.sleep(self.policy.pause_s)  # let writers in
        return total
