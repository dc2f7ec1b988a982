"""What `wfmon status` knows: facts read from the database, with no judgement yet.

`gather()` is the only part that does I/O; `assess` and `recommend` are pure functions of
the `StatusFacts` it returns, so every verdict can be tested from a hand-built value.
It only reads (never migrates or writes), so it is safe beside a running daemon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wfmon.alerts.status import AlertsStatus, gather_alerts
from wfmon.domain.run import ExecutionStatus
from wfmon.domain.workflow import Workflow
from wfmon.errors import StorageError
from wfmon.health import checks
from wfmon.status.plans import WorkflowPlan, plans_for
from wfmon.storage import (
    Database,
    ExecutionRepository,
    ExecutionSummary,
    HealthCheckRecord,
    HealthCheckRepository,
    WorkflowRepository,
)
from wfmon.storage.stats import CheckCounts, Percentiles, RunCounts, StatsRepository

DEFAULT_HEALTH_INTERVAL_S = 300.0  # DaemonSpec.health_interval's default
RECENT_RUNS = 10  # how many of a workflow's latest runs the failure rules look at
RECENT_WINDOW = timedelta(days=7)  # ...started at most this long ago
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class DatabaseFacts:
    url: str  # password masked
    dialect: str | None = None
    ping_ms: float | None = None  # a warm round trip measured by `wfmon status` itself
    revision: str | None = None  # the migration it is at; None: no wfmon tables yet
    head_revision: str | None = None  # the newest migration this wfmon ships
    error: str | None = None  # why it could not be read at all

    @property
    def reachable(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class HeartbeatFacts:
    """The daemon's latest `heartbeat` health check row."""

    checked_at: datetime
    instance: str | None = None
    pid: int | None = None
    version: str | None = None
    started_at: datetime | None = None
    uptime_s: float | None = None
    interval_s: float | None = None  # the health interval, when the daemon stores it

    @classmethod
    def from_record(cls, record: HealthCheckRecord) -> HeartbeatFacts:
        data = record.data
        return cls(
            checked_at=record.checked_at,
            instance=_text(data.get("instance")),
            pid=_int(data.get("pid")),
            version=_text(data.get("version")),
            started_at=_time(data.get("started_at")),
            uptime_s=_number(data.get("uptime_s")),
            interval_s=_number(data.get("interval_s")),
        )


@dataclass(frozen=True)
class CheckFacts:
    """A health check's latest result and its last hour."""

    name: str
    ok: bool
    checked_at: datetime
    latency_ms: float | None = None
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    last_hour: CheckCounts = field(default_factory=CheckCounts)


@dataclass(frozen=True)
class RunFacts:
    """One execution, as much of it as the rules need."""

    started_at: datetime
    status: ExecutionStatus
    error: str | None = None
    duration_ms: float | None = None
    slot_at: datetime | None = None

    @classmethod
    def from_summary(cls, summary: ExecutionSummary) -> RunFacts:
        return cls(
            started_at=summary.started_at,
            status=summary.status,
            error=summary.error,
            duration_ms=summary.duration_ms,
            slot_at=summary.slot_at,
        )


@dataclass(frozen=True)
class WorkflowFacts:
    name: str
    plan: WorkflowPlan | None = None  # None: not configured (removed, or only run by hand)
    last: RunFacts | None = None  # the latest execution, whatever its status
    last_hour: RunCounts = field(default_factory=RunCounts)
    last_day: RunCounts = field(default_factory=RunCounts)
    duration: Percentiles = field(default_factory=Percentiles)  # of the last day
    recent: tuple[RunFacts, ...] = ()  # latest runs that ran, newest first
    last_slots: dict[str, datetime] = field(default_factory=dict)  # per location


@dataclass(frozen=True)
class StatusFacts:
    """Everything `wfmon status` judges. Later sections (firing alerts, dead notifications)
    are added here as fields with an empty default, filled by `gather` and judged by a rule
    in `assess.RULES`, and shown by a section in `render.SECTIONS`."""

    database: DatabaseFacts
    heartbeat: HeartbeatFacts | None = None
    checks: tuple[CheckFacts, ...] = ()
    workflows: tuple[WorkflowFacts, ...] = ()
    default_interval_s: float = DEFAULT_HEALTH_INTERVAL_S
    alerts: AlertsStatus = field(default_factory=AlertsStatus)  # open alerts, the outbox

    @property
    def interval_s(self) -> float:
        """The daemon's health-check interval: as it stored it, else the default."""
        if self.heartbeat is not None and self.heartbeat.interval_s:
            return self.heartbeat.interval_s
        return self.default_interval_s

    def check(self, name: str) -> CheckFacts | None:
        return next((c for c in self.checks if c.name == name), None)


async def gather(
    db: Database,
    now: datetime,
    *,
    workflows: Sequence[Workflow] | None = None,
    default_interval_s: float = DEFAULT_HEALTH_INTERVAL_S,
) -> StatusFacts:
    """Read the facts at `now`. `workflows` (from a config) replace the stored schedules.

    A database that cannot be read gives facts with `database.error` set, not an exception:
    that is a status to report, not a crash.
    """
    try:
        await db.ping()  # the first round trip also opens the connection: not the latency
        ping_ms = await db.ping()
        revision = await db.current_revision()
    except StorageError as error:
        return StatusFacts(
            database=DatabaseFacts(db.redacted_url, db.dialect, error=str(error)),
            default_interval_s=default_interval_s,
        )
    database = DatabaseFacts(db.redacted_url, db.dialect, ping_ms, revision, db.head_revision())
    if revision is None:
        return StatusFacts(database=database, default_interval_s=default_interval_s)
    try:
        return await _gather_tables(db, now, database, workflows, default_interval_s)
    except StorageError as error:
        return StatusFacts(
            database=DatabaseFacts(
                db.redacted_url, db.dialect, ping_ms, revision, database.head_revision, str(error)
            ),
            default_interval_s=default_interval_s,
        )


async def _gather_tables(
    db: Database,
    now: datetime,
    database: DatabaseFacts,
    configured: Sequence[Workflow] | None,
    default_interval_s: float,
) -> StatusFacts:
    stats = StatsRepository(db)
    executions = ExecutionRepository(db)
    latest_checks = await HealthCheckRepository(db).latest()
    check_counts = await stats.check_counts(now - HOUR)
    heartbeat = next((c for c in latest_checks if c.name == checks.HEARTBEAT), None)

    records = await WorkflowRepository(db).list()
    last_slots = await executions.last_slots()
    plans = plans_for(records, last_slots, configured)

    hour = await stats.status_counts(now - HOUR)
    day = await stats.status_counts(now - DAY)
    durations = await stats.duration_percentiles(now - DAY, qs=(50, 95))
    latest = await executions.latest_per_workflow()
    # Configured workflows, and any other that ran in the last day.
    names = sorted(plans.keys() | day.keys())
    recent = await stats.recent_runs(names, now - RECENT_WINDOW, RECENT_RUNS)

    workflows = tuple(
        WorkflowFacts(
            name=name,
            plan=plans.get(name),
            last=RunFacts.from_summary(latest[name]) if name in latest else None,
            last_hour=hour.get(name, RunCounts()),
            last_day=day.get(name, RunCounts()),
            duration=durations.get(name, Percentiles()),
            recent=tuple(RunFacts.from_summary(r) for r in recent.get(name, ())),
            last_slots={loc: slot for (wf, loc), slot in last_slots.items() if wf == name},
        )
        for name in names
    )
    return StatusFacts(
        database=database,
        heartbeat=HeartbeatFacts.from_record(heartbeat) if heartbeat is not None else None,
        checks=tuple(
            CheckFacts(
                name=c.name,
                ok=c.ok,
                checked_at=c.checked_at,
                latency_ms=c.latency_ms,
                detail=c.detail,
                data=c.data,
                last_hour=check_counts.get(c.name, CheckCounts()),
            )
            for c in latest_checks
        ),
        workflows=workflows,
        default_interval_s=default_interval_s,
        alerts=await gather_alerts(db),
    )


def unavailable(url: str, error: str) -> StatusFacts:
    """Facts for a database that could not even be opened."""
    return StatusFacts(database=DatabaseFacts(url, error=error))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _int(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
