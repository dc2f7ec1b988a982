"""The performance page's tables: latency percentiles and success rate per workflow and
per step over a window (1 h, 24 h, 7 d, 30 d), from the rollups, never raw executions.

The charts beside them are drawn in the browser from `GET /api/v1/metrics/timeseries`
(and anomalies from `GET /api/v1/anomalies` when the analytics routes are mounted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from wfmon.api.services import ApiServices
from wfmon.storage.rollups import TIER_WIDTH, WHOLE, Cell, Tier, floor_to


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    span: timedelta
    tier: Tier  # the rollups it reads: per minute for an hour, per hour beyond

    def since(self, now: datetime) -> datetime:
        """The first bucket: the current one counts, so 24 h is 24 hourly buckets."""
        return floor_to(now, self.tier) - self.span + TIER_WIDTH[self.tier]


WINDOWS = {
    w.key: w
    for w in (
        Window("1h", "1 hour", timedelta(hours=1), "minute"),
        Window("24h", "24 hours", timedelta(hours=24), "hour"),
        Window("7d", "7 days", timedelta(days=7), "hour"),
        Window("30d", "30 days", timedelta(days=30), "hour"),
    )
}
DEFAULT_WINDOW = "24h"


@dataclass(frozen=True)
class Stats:
    name: str
    runs: int
    success: float | None
    p50: float | None
    p95: float | None
    p99: float | None

    @classmethod
    def of(cls, name: str, cell: Cell | None) -> Stats:
        cell = cell or Cell()
        h = cell.histogram
        return cls(
            name,
            cell.count,
            cell.success_ratio,
            h.percentile(50),
            h.percentile(95),
            h.percentile(99),
        )


@dataclass(frozen=True)
class PerformancePage:
    window: Window
    workflows: list[Stats]
    selected: str | None
    steps: list[Stats]


async def performance_page(s: ApiServices, window: Window, wanted: str | None) -> PerformancePage:
    since = window.since(s.clock.now())
    names = sorted((r.name for r in await s.workflows.list()), key=str.lower)
    totals = await s.rollups.totals(window.tier, since, step=WHOLE)
    rows = [Stats.of(name, totals.get(name)) for name in names]
    selected = wanted if wanted in names else (names[0] if names else None)
    steps: list[Stats] = []
    if selected is not None:
        for step in await s.rollups.steps(selected, floor_to(since, "hour")):
            cells = await s.rollups.totals(window.tier, since, step=step, workflow=selected)
            steps.append(Stats.of(step, cells.get(selected)))
    return PerformancePage(window, rows, selected, steps)
