"""Choosing rollup tier and bucket width for a time series request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wfmon.api.timeseries import BadRange, plan, value_of
from wfmon.domain.histogram import histogram_of
from wfmon.storage.rollups import Cell

NOW = datetime(2026, 1, 1, 12, 34, 56, tzinfo=UTC)


@pytest.mark.parametrize(
    ("span", "resolution", "tier", "chosen"),
    [
        (timedelta(hours=1), "auto", "minute", "1m"),  # 60 points
        (timedelta(hours=24), "auto", "minute", "5m"),  # 1m would be 1440
        (timedelta(days=7), "auto", "hour", "1h"),
        (timedelta(days=90), "auto", "hour", "6h"),
        (timedelta(days=400), "auto", "hour", "1d"),
        (timedelta(hours=3), "15m", "minute", "15m"),
        (timedelta(days=2), "1h", "hour", "1h"),
    ],
)
def test_the_finest_width_under_the_point_budget_is_chosen(
    span: timedelta, resolution: str, tier: str, chosen: str
) -> None:
    result = plan(NOW - span, NOW, resolution)
    assert (result.tier, result.resolution) == (tier, chosen)


def test_the_range_is_aligned_to_whole_buckets() -> None:
    result = plan(NOW - timedelta(hours=2), NOW, "15m")
    assert result.since == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    assert result.until == datetime(2026, 1, 1, 12, 45, tzinfo=UTC)
    assert result.points == 9


@pytest.mark.parametrize(
    ("since", "until", "resolution", "field"),
    [
        (NOW, NOW - timedelta(hours=1), "auto", "query.until"),
        (NOW - timedelta(days=30), NOW, "1m", "query.resolution"),
        (NOW - timedelta(hours=1), NOW, "2m", "query.resolution"),
    ],
)
def test_impossible_ranges_name_the_parameter_at_fault(
    since: datetime, until: datetime, resolution: str, field: str
) -> None:
    with pytest.raises(BadRange) as error:
        plan(since, until, resolution)
    assert error.value.field == field


def test_metric_values_of_a_cell() -> None:
    cell = Cell(count=4, succeeded=3, failures=1, histogram=histogram_of([10, 20, 30, 40]))
    assert value_of(cell, "success_rate") == 0.75
    assert value_of(cell, "duration_avg") == 25
    assert value_of(cell, "duration_p99") == 40
    assert value_of(Cell(), "success_rate") is None
