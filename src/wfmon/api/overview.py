"""`GET /overview`: system health, counts and each workflow's state, from cheap reads.

The verdict is `wfmon status`'s (`status.assess` over `StatusFacts`), but the facts are
gathered for a page polled every few seconds: indexed probes per workflow, the last hour
from raw rows (a range of the started_at index), the last day from hourly rollups. The
result is computed at most once per `overview_ttl_s` however many clients ask.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from wfmon.api import schemas
from wfmon.api.workflow_views import plan_of, schedule_words
from wfmon.domain.run import ExecutionStatus
from wfmon.errors import StorageError
from wfmon.health import checks
from wfmon.status import Assessment, assess, recommend
from wfmon.status.assess import DEFAULT_THRESHOLDS
from wfmon.status.facts import (
    DEFAULT_HEALTH_INTERVAL_S,
    RECENT_RUNS,
    RECENT_WINDOW,
    CheckFacts,
    DatabaseFacts,
    HeartbeatFacts,
    RunFacts,
    StatusFacts,
    WorkflowFacts,
)
from wfmon.storage import (
    Database,
    ExecutionRepository,
    HealthCheckRecord,
    WorkflowRecord,
    WorkflowRepository,
)
from wfmon.storage.lookups import last_slots, latest_checks
from wfmon.storage.rollups import Cell, RollupRepository, floor_to
from wfmon.storage.stats import FAILURE_STATUSES, RunCounts, StatsRepository

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

FiringAlerts = Callable[[], Awaitable[int]]


class OverviewBuilder:
    def __init__(self, db: Database, firing_alerts: FiringAlerts | None = None) -> None:
        self._db = db
        self._executions = ExecutionRepository(db)
        self._workflows = WorkflowRepository(db)
        self._stats = StatsRepository(db)
        self._rollups = RollupRepository(db)
        self._firing_alerts = firing_alerts
        self._head = Database.head_revision()

    async def build(self, now: datetime) -> schemas.OverviewOut:
        facts, day, records = await self._gather(now)
        verdict = assess(facts, now)
        advice = recommend(facts, now)
        firing = await self._firing_alerts() if self._firing_alerts is not None else None
        return schemas.OverviewOut(
            generated_at=now,
            system=_system(facts, verdict, advice, now),
            counts=_counts(records, day, firing),
            workflows=[
                _workflow(wf, records.get(wf.name), day, verdict, now) for wf in facts.workflows
            ],
        )

    async def _gather(
        self, now: datetime
    ) -> tuple[StatusFacts, dict[str, Cell], dict[str, WorkflowRecord]]:
        db = self._db
        try:
            ping_ms = await db.ping()
            revision = await db.current_revision()
        except StorageError as error:
            facts = StatusFacts(DatabaseFacts("", db.dialect, error=str(error)))
            return facts, {}, {}
        database = DatabaseFacts("", db.dialect, ping_ms, revision, self._head)
        found = await latest_checks(db, checks.ALL_CHECKS)
        heartbeat = next((c for c in found if c.name == checks.HEARTBEAT), None)
        records = {r.name: r for r in await self._workflows.list()}
        plans = {name: plan_of(record) for name, record in records.items()}
        slots = await last_slots(
            db, [(name, loc) for name, plan in plans.items() for loc in plan.locations]
        )
        latest = await self._executions.latest_per_workflow()
        hour = await self._stats.status_counts(now - HOUR)
        recent = await self._stats.recent_runs(plans, now - RECENT_WINDOW, RECENT_RUNS)
        day = await self._rollups.totals("hour", floor_to(now - DAY, "hour"))
        workflows = tuple(
            WorkflowFacts(
                name=name,
                plan=plans[name],
                last=RunFacts.from_summary(latest[name]) if name in latest else None,
                last_hour=hour.get(name, RunCounts()),
                recent=tuple(RunFacts.from_summary(r) for r in recent.get(name, ())),
                last_slots={loc: s for (wf, loc), s in slots.items() if wf == name},
            )
            for name in sorted(plans)
        )
        facts = StatusFacts(
            database=database,
            heartbeat=HeartbeatFacts.from_record(heartbeat) if heartbeat is not None else None,
            checks=tuple(_check(c) for c in found),
            workflows=workflows,
            default_interval_s=DEFAULT_HEALTH_INTERVAL_S,
        )
        return facts, day, records


def _check(record: HealthCheckRecord) -> CheckFacts:
    return CheckFacts(
        name=record.name,
        ok=record.ok,
        checked_at=record.checked_at,
        latency_ms=record.latency_ms,
        detail=record.detail,
        data=record.data,
    )


def health_check_out(record: HealthCheckRecord | CheckFacts) -> schemas.HealthCheckOut:
    return schemas.HealthCheckOut(
        name=record.name,
        ok=record.ok,
        checked_at=record.checked_at,
        latency_ms=record.latency_ms,
        detail=record.detail,
        data=record.data,
    )


def _system(
    facts: StatusFacts, verdict: Assessment, advice: list[str], now: datetime
) -> schemas.SystemOut:
    beat = facts.heartbeat
    daemon = None
    if beat is not None:
        stale = facts.interval_s * DEFAULT_THRESHOLDS.stale_after_intervals
        daemon = schemas.DaemonOut(
            alive=(now - beat.checked_at).total_seconds() <= stale,
            last_heartbeat=beat.checked_at,
            instance=beat.instance,
            pid=beat.pid,
            version=beat.version,
            started_at=beat.started_at,
            uptime_s=beat.uptime_s,
        )
    lag_check = facts.check(checks.LAG)
    lag = None
    if lag_check is not None:
        lag = schemas.LagOut(
            p50_s=_number(lag_check.data.get("p50_s")),
            p99_s=_number(lag_check.data.get("p99_s")),
            checked_at=lag_check.checked_at,
        )
    db = facts.database
    return schemas.SystemOut(
        level=verdict.level.value,
        reasons=[
            schemas.ReasonOut(
                code=r.code, level=r.level.value, message=r.message, subject=r.subject
            )
            for r in verdict.reasons
        ],
        recommendations=advice,
        daemon=daemon,
        database=schemas.DatabaseOut(
            dialect=db.dialect, latency_ms=db.ping_ms, revision=db.revision
        ),
        scheduler_lag=lag,
        health_checks=[health_check_out(c) for c in facts.checks],
    )


def _counts(
    records: dict[str, WorkflowRecord], day: dict[str, Cell], firing: int | None
) -> schemas.CountsOut:
    runs = sum(cell.count for cell in day.values())
    succeeded = sum(cell.succeeded for cell in day.values())
    return schemas.CountsOut(
        workflows=len(records),
        executions_24h=runs,
        success_rate_24h=succeeded / runs if runs else None,
        firing_alerts=firing,
    )


def _workflow(
    wf: WorkflowFacts,
    record: WorkflowRecord | None,
    day: dict[str, Cell],
    verdict: Assessment,
    now: datetime,
) -> schemas.WorkflowStatusOut:
    cell = day.get(wf.name, Cell())
    last = wf.last
    plan = wf.plan
    return schemas.WorkflowStatusOut(
        name=wf.name,
        state=workflow_state(wf, verdict),
        enabled=plan.enabled if plan is not None else False,
        schedule=schedule_words(plan),
        next_run_at=plan.next_run(now) if plan is not None else None,
        last_status=last.status.value if last is not None else None,
        last_run_at=last.started_at if last is not None else None,
        last_duration_ms=last.duration_ms if last is not None else None,
        last_error=last.error if last is not None else None,
        runs_24h=cell.count,
        success_rate_24h=cell.success_ratio,
        p95_ms_24h=cell.histogram.percentile(95),
    )


def workflow_state(wf: WorkflowFacts, verdict: Assessment) -> schemas.WorkflowState:
    """passing | failing | degraded | no_data | disabled: one word for a badge."""
    if wf.plan is not None and not wf.plan.enabled:
        return "disabled"
    mine = {r.code for r in verdict.reasons if r.subject == wf.name}
    last = wf.last
    if "workflow_failing" in mine or (last is not None and last.status in FAILURE_STATUSES):
        return "failing"
    if mine:
        return "degraded"
    if last is None or (last.status is ExecutionStatus.RUNNING and not wf.recent):
        return "no_data"
    return "passing"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
