"""Building a report of one period from the database (read-only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from wfmon.domain.workflow import Workflow
from wfmon.health import checks
from wfmon.reports.expected import count_slots
from wfmon.reports.failures import FailureGroup, group_failures
from wfmon.reports.model import Report, WorkflowReport
from wfmon.reports.uptime import coverage
from wfmon.status.facts import DEFAULT_HEALTH_INTERVAL_S, HeartbeatFacts
from wfmon.status.plans import WorkflowPlan, plans_for
from wfmon.storage import Database, ExecutionRepository, HealthCheckRepository, WorkflowRepository
from wfmon.storage.stats import Percentiles, RunCounts, SlotCounts, StatsRepository

# Slots in the last two minutes of a period may not have started yet when the report is
# written (lag, jitter, a report written on the hour): the slot window is the period moved
# back by this much, so those slots are counted in the next report instead of as missing.
SETTLE_S = 120.0
DURATION_QS = (50, 95, 99)
LAG_QS = (50, 99)


async def build_report(
    db: Database,
    start: datetime,
    end: datetime,
    *,
    generated_at: datetime | None = None,
    workflows: Sequence[Workflow] | None = None,
    default_interval_s: float = DEFAULT_HEALTH_INTERVAL_S,
    settle_s: float = SETTLE_S,
) -> Report:
    """The report of [start, end). `workflows` (from a config) replace the stored plans.

    The health interval is the one the daemon stored with its latest heartbeat, else
    `default_interval_s`.
    """
    stats = StatsRepository(db)
    records = await WorkflowRepository(db).list()
    last_slots = await ExecutionRepository(db).last_slots()
    plans = plans_for(records, last_slots, workflows)

    latest = await HealthCheckRepository(db).latest()
    beat = next((c for c in latest if c.name == checks.HEARTBEAT), None)
    interval_s = (HeartbeatFacts.from_record(beat).interval_s if beat else None) or (
        default_interval_s
    )

    settle = timedelta(seconds=settle_s)
    counts = await stats.status_counts(start, end)
    durations = await stats.duration_percentiles(start, end, DURATION_QS)
    lags = await stats.lag_percentiles(start, end, LAG_QS)
    overall_lag = await stats.lag_percentiles(start, end, LAG_QS, per_workflow=False)
    failures = group_failures(await stats.error_counts(start, end))
    slots = await stats.slot_counts(start - settle, end - settle)

    beats = await stats.check_times(start, end, checks.HEARTBEAT)
    beat_before = await stats.last_check_before(start, checks.HEARTBEAT)
    rounds = await stats.check_times(start, end)
    round_before = await stats.last_check_before(start)

    names = sorted(plans.keys() | counts.keys() | slots.keys())
    return Report(
        start=start,
        end=end,
        generated_at=generated_at or end,
        workflows=tuple(
            workflow_report(
                name,
                plans.get(name),
                counts.get(name, RunCounts()),
                slots.get(name, SlotCounts()),
                durations.get(name, Percentiles()),
                lags.get(name, Percentiles()),
                failures.get(name, ()),
                window=(start - settle, end - settle),
            )
            for name in names
        ),
        daemon=coverage(beats, start, end, interval_s, before=beat_before),
        checks=coverage(rounds, start, end, interval_s, before=round_before),
        check_counts=await stats.check_counts(start, end),
        lag=overall_lag.get("", Percentiles()),
        settle_s=settle_s,
    )


def workflow_report(
    name: str,
    plan: WorkflowPlan | None,
    counts: RunCounts,
    slots: SlotCounts,
    duration: Percentiles,
    lag: Percentiles,
    failures: tuple[FailureGroup, ...],
    *,
    window: tuple[datetime, datetime],
) -> WorkflowReport:
    return WorkflowReport(
        name=name,
        schedule=plan.words if plan is not None else None,
        locations=plan.locations if plan is not None else (),
        counts=counts,
        expected=expected_slots(plan, *window),
        ran=slots.ran,
        missed=slots.missed,
        duration=duration,
        lag=lag,
        failures=failures,
    )


def expected_slots(plan: WorkflowPlan | None, after: datetime, until: datetime) -> int | None:
    """Slots due in (after, until] at every location, counted from when the workflow was
    first seen; None when the schedule is not known, 0 when the workflow is disabled."""
    if plan is None or plan.schedule is None:
        return None
    if not plan.enabled:
        return 0
    if plan.created_at is not None:
        after = max(after, plan.created_at)
    try:
        return count_slots(plan.schedule, after, until) * len(plan.locations)
    except ValueError:
        return None
