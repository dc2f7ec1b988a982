"""What each page shows, gathered from the same repositories and models as the JSON API.

Pages render the API's own response models (`OverviewOut`, `ExecutionSummaryOut`,
`AlertOut`...), so the server's HTML and the browser's live updates (which read the JSON
routes) use the same field names and the same masking of secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import yaml

from wfmon.api.alert_schemas import AlertEventOut, AlertOut
from wfmon.api.params import encode_cursor
from wfmon.api.schemas import (
    ExecutionSummaryOut,
    OverviewOut,
    UptimeOut,
    UptimesOut,
    WorkflowDetailOut,
)
from wfmon.api.services import ApiServices
from wfmon.api.workflow_views import (
    execution_summary,
    masked_definition,
    plan_of,
    workflow_summary,
)
from wfmon.domain.alert import AlertState
from wfmon.domain.run import ExecutionStatus
from wfmon.storage.rollups import floor_to
from wfmon.storage.stats import StatsRepository
from wfmon.web.charts import Sparkline, sparkline
from wfmon.web.filters import ExecutionFilters

SPARK_RUNS = 30  # runs in an overview sparkline
SPARK_WINDOW = timedelta(days=1)
FIRING_SHOWN = 10
RECENT_SHOWN = 10
WORKFLOW_RUNS = 15
RESOLVED_SHOWN = 50
OPEN_SHOWN = 200


@dataclass(frozen=True)
class OverviewPage:
    overview: OverviewOut
    firing: list[AlertOut]
    recent: list[ExecutionSummaryOut]
    sparks: dict[str, Sparkline]


async def sparklines(s: ApiServices, names: list[str]) -> dict[str, Sparkline]:
    since = s.clock.now() - SPARK_WINDOW
    recent = await StatsRepository(s.db).recent_runs(names, since, SPARK_RUNS)
    found = {}
    for name, rows in recent.items():
        runs = [
            (row.duration_ms, row.status is ExecutionStatus.SUCCEEDED)
            for row in reversed(rows)
            if row.duration_ms is not None
        ]
        line = sparkline(runs)
        if line is not None:
            found[name] = line
    return found


async def overview_page(s: ApiServices) -> OverviewPage:
    overview, _ = await s.overview()
    firing = await s.alerts.list(states=[AlertState.FIRING], limit=FIRING_SHOWN)
    recent = await s.executions.list(limit=RECENT_SHOWN)
    return OverviewPage(
        overview=overview,
        firing=[AlertOut.of(a) for a in firing],
        recent=[execution_summary(e) for e in recent],
        sparks=await sparklines(s, [w.name for w in overview.workflows]),
    )


@dataclass(frozen=True)
class ExecutionsPage:
    items: list[ExecutionSummaryOut]
    next_cursor: str | None
    workflows: list[str]


async def executions_page(s: ApiServices, f: ExecutionFilters) -> ExecutionsPage:
    rows = await s.executions.list(
        workflow=f.workflow or None,
        status=[ExecutionStatus(v) for v in f.statuses] or None,
        location=f.location or None,
        since=f.since_at,
        until=f.until_at,
        limit=f.limit + 1,
        before_id=f.before_id,
    )
    page = rows[: f.limit]
    more = len(rows) > f.limit and bool(page)
    names = [r.name for r in await s.workflows.list(include_removed=True)]
    return ExecutionsPage(
        items=[execution_summary(r) for r in page],
        next_cursor=encode_cursor(page[-1].id) if more else None,
        workflows=sorted(names, key=str.lower),
    )


@dataclass(frozen=True)
class WorkflowPage:
    workflow: WorkflowDetailOut
    definition: str  # YAML, secrets masked
    spark: Sparkline | None


async def workflow_page(s: ApiServices, name: str) -> WorkflowPage | None:
    record = await s.workflows.get(name)
    if record is None:
        return None
    now = s.clock.now()
    hour = floor_to(now, "hour")
    spans = [hour - timedelta(hours=23), hour - timedelta(days=7), hour - timedelta(days=30)]
    uptime = [
        UptimeOut(runs=runs, succeeded=ok, ratio=ok / runs if runs else None)
        for runs, ok in await s.rollups.counts(name, spans)
    ]
    latest = await s.executions.list(workflow=name, limit=WORKFLOW_RUNS)
    summary = workflow_summary(record, latest[0] if latest else None, now)
    definition = masked_definition(record)
    detail = WorkflowDetailOut(
        **summary.model_dump(),
        version=record.version,
        source=record.source,
        locations=list(plan_of(record).locations),
        created_at=record.created_at,
        updated_at=record.updated_at,
        removed_at=record.removed_at,
        definition=definition,
        uptime=UptimesOut(h24=uptime[0], d7=uptime[1], d30=uptime[2]),
        steps=await s.rollups.steps(name, spans[2]),
        latest_executions=[execution_summary(e) for e in latest],
    )
    text = yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=100)
    sparks = await sparklines(s, [name])
    return WorkflowPage(detail, text, sparks.get(name))


@dataclass(frozen=True)
class AlertsPage:
    firing: list[AlertOut]
    acknowledged: list[AlertOut]
    resolved: list[AlertOut]


async def alerts_page(s: ApiServices) -> AlertsPage:
    def of(state: AlertState, limit: int) -> list[AlertOut]:
        return [AlertOut.of(a) for a in found[state]][:limit]

    found = {
        state: await s.alerts.list(
            states=[state], limit=RESOLVED_SHOWN if state is AlertState.RESOLVED else OPEN_SHOWN
        )
        for state in AlertState
    }
    return AlertsPage(
        firing=of(AlertState.FIRING, OPEN_SHOWN),
        acknowledged=of(AlertState.ACKNOWLEDGED, OPEN_SHOWN),
        resolved=of(AlertState.RESOLVED, RESOLVED_SHOWN),
    )


async def alert_history(
    s: ApiServices, alert_id: int
) -> tuple[AlertOut, list[AlertEventOut]] | None:
    alert = await s.alerts.get(alert_id)
    if alert is None:
        return None
    events = await s.alerts.history(alert_id=alert_id)
    return AlertOut.of(alert), [AlertEventOut.of(e) for e in events]
