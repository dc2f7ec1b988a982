"""`GET /metrics/timeseries`: a metric of a workflow (or one step) over time, from rollups.

Never from raw rows: a resolution under an hour reads the per-minute rollups, an hour or
more the per-hour ones, and buckets are merged into the requested width (histograms add
up, so a 15-minute p95 is exact to the histogram's precision, not an average of p95s).
The choice of tier and width is a pure function (`plan`) of the request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import orjson

from wfmon.storage.rollups import WHOLE, Cell, RollupRepository, SeriesRow, Tier

Metric = Literal["duration_p50", "duration_p95", "duration_p99", "duration_avg", "success_rate"]
METRICS: tuple[Metric, ...] = (
    "duration_p50",
    "duration_p95",
    "duration_p99",
    "duration_avg",
    "success_rate",
)
RESOLUTIONS: dict[str, int] = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "1h": 3600,
    "6h": 6 * 3600,
    "1d": 86400,
}
MAX_POINTS = 2000
AUTO_POINTS = 500  # `auto` picks the finest width giving at most this many points
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BadRange(ValueError):
    """The request asks for more points than allowed, or an empty range."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Plan:
    tier: Tier
    resolution: str
    width_s: int
    since: datetime  # aligned down to the width
    until: datetime  # aligned up to the width

    @property
    def points(self) -> int:
        return int((self.until - self.since).total_seconds() // self.width_s)


def plan(since: datetime, until: datetime, resolution: str) -> Plan:
    """Which rollups to read and how to group them; BadRange if it cannot be served."""
    if until <= since:
        raise BadRange("query.until", "until must be after since")
    span = (until - since).total_seconds()
    if resolution == "auto":
        resolution = next(
            (name for name, width in RESOLUTIONS.items() if span / width <= AUTO_POINTS), "1d"
        )
    width = RESOLUTIONS.get(resolution)
    if width is None:
        raise BadRange("query.resolution", f"use auto or one of {', '.join(RESOLUTIONS)}")
    start = _align(since, width, up=False)
    end = _align(until, width, up=True)
    result = Plan("minute" if width < 3600 else "hour", resolution, width, start, end)
    if result.points > MAX_POINTS:
        raise BadRange(
            "query.resolution",
            f"{result.points} points at {resolution}: at most {MAX_POINTS}; use a coarser "
            "resolution or a shorter range",
        )
    return result


def _align(when: datetime, width_s: int, *, up: bool) -> datetime:
    seconds = (when - _EPOCH).total_seconds()
    steps = math.ceil(seconds / width_s) if up else math.floor(seconds / width_s)
    return _EPOCH + timedelta(seconds=steps * width_s)


def value_of(cell: Cell, metric: Metric) -> float | None:
    if metric == "success_rate":
        return cell.success_ratio
    if metric == "duration_avg":
        return cell.histogram.mean_ms
    q = {"duration_p50": 50.0, "duration_p95": 95.0, "duration_p99": 99.0}[metric]
    return cell.histogram.percentile(q)


async def timeseries(
    rollups: RollupRepository,
    workflow: str,
    step: str | None,
    metric: Metric,
    chosen: Plan,
) -> bytes:
    """The `TimeseriesOut` document, encoded. Built with orjson, not the pydantic model:
    a chart answer has hundreds of points and this is the path every uncached chart
    takes (the model documents it; the API tests validate answers against it)."""
    histograms = metric not in ("success_rate", "duration_avg")
    rows = await rollups.series_rows(
        chosen.tier,
        workflow,
        step or WHOLE,
        chosen.since,
        chosen.until,
        histograms=histograms,
    )
    points = [
        {"t": start, "value": _rounded(value_of(cell, metric)), "count": cell.count}
        for start, cell in _grouped(rows, chosen.width_s, histograms)
    ]
    document = {
        "workflow": workflow,
        "step": step,
        "metric": metric,
        "unit": "ratio" if metric == "success_rate" else "ms",
        "resolution": chosen.resolution,
        "since": chosen.since,
        "until": chosen.until,
        "points": points,
    }
    return orjson.dumps(document, option=orjson.OPT_UTC_Z)


def _grouped(rows: list[SeriesRow], width_s: int, histograms: bool) -> list[tuple[datetime, Cell]]:
    """Rows merged into buckets of `width_s`, in order. The hot path of a chart: plain
    dicts, one Cell per output point (not per row)."""
    groups: list[tuple[datetime, Cell]] = []
    current: datetime | None = None
    cell = Cell()
    bins: dict[int, int] = {}
    for bucket, count, succeeded, sum_ms, min_ms, max_ms, stored in rows:
        # Rows of the tier's own width are aligned already (most charts): skip the maths.
        start = bucket if width_s in (60, 3600) else _align(bucket, width_s, up=False)
        if start != current:
            if current is not None:
                groups.append((current, _finish(cell, bins)))
            current, cell, bins = start, Cell(), {}
        cell.count += count
        cell.succeeded += succeeded
        hist = cell.histogram
        hist.sum_ms += sum_ms
        if min_ms is not None:
            hist.min_ms = min_ms if hist.min_ms is None else min(hist.min_ms, min_ms)
        if max_ms is not None:
            hist.max_ms = max_ms if hist.max_ms is None else max(hist.max_ms, max_ms)
        if histograms and stored:
            for index, n in stored.items():
                key = int(index)
                bins[key] = bins.get(key, 0) + n
        else:
            hist.count += count
    if current is not None:
        groups.append((current, _finish(cell, bins)))
    return groups


def _finish(cell: Cell, bins: dict[int, int]) -> Cell:
    if bins:
        cell.histogram.bins = bins
        cell.histogram.count = sum(bins.values())
    return cell


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
