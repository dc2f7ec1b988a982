"""Trends: a series' slope over days and weeks, and when a rising latency crosses its limit.

Theil-Sen (the median of pairwise slopes: a few outliers or an outage do not tilt it) on
daily p95s, with a Mann-Kendall test (Kendall's tau of value against time) for whether the
slope is more than noise. "checkout p95 +12 ms/day; crosses 800 ms in about 9 days".
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy import stats  # type: ignore[import-untyped]  # scipy ships no stubs

DAY_S = 86_400.0
SIGNIFICANCE = 0.05
MIN_DAYS = 5  # fewer daily points say nothing about a trend


@dataclass(frozen=True)
class Trend:
    slope_per_day: float  # units per day (Theil-Sen)
    low_per_day: float  # its 95 % confidence interval
    high_per_day: float
    tau: float  # Kendall's tau
    p_value: float  # Mann-Kendall, two-sided
    days: int
    last: float  # the fitted value at the last day
    crosses_in_days: float | None = None  # when the fit reaches the limit, if rising
    limit: float | None = None

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANCE

    @property
    def direction(self) -> str:
        if not self.significant:
            return "flat"
        return "rising" if self.slope_per_day > 0 else "falling"


def daily_quantile(
    points: Iterable[tuple[datetime, float]], q: float = 0.95
) -> list[tuple[float, float]]:
    """(day number since the epoch, the day's q-quantile) per UTC day with data."""
    days: dict[int, list[float]] = defaultdict(list)
    for when, value in points:
        days[int(when.timestamp() // DAY_S)].append(value)
    return [(float(d), float(np.quantile(v, q))) for d, v in sorted(days.items())]


def trend(
    days: Sequence[float], values: Sequence[float], limit: float | None = None
) -> Trend | None:
    """The trend of `values` over `days` (any time unit counted in days); None when there
    are fewer than MIN_DAYS points or no spread in time."""
    if len(days) < MIN_DAYS or len(set(days)) < 2:
        return None
    x = np.asarray(days, dtype=float)
    y = np.asarray(values, dtype=float)
    slope, intercept, low, high = stats.theilslopes(y, x, alpha=0.95)
    tau, p_value = stats.kendalltau(x, y)
    if math.isnan(tau):  # constant values
        tau, p_value = 0.0, 1.0
    last = float(intercept + slope * x[-1])
    result = Trend(float(slope), float(low), float(high), float(tau), float(p_value), len(x), last)
    if limit is None:
        return result
    crosses = None
    if result.significant and slope > 0 and last < limit:
        crosses = (limit - last) / slope
    return Trend(**{**result.__dict__, "crosses_in_days": crosses, "limit": limit})


def describe(name: str, found: Trend, unit: str = "ms") -> str:
    """'checkout p95 +12 ms/day; crosses 800 ms in about 9 days'."""
    if not found.significant:
        return f"{name}: no significant trend over {found.days} days (p = {found.p_value:.2f})"
    per_week = abs(found.slope_per_day) < 1.0
    rate = found.slope_per_day * (7 if per_week else 1)
    text = f"{name} {rate:+.1f} {unit}/{'week' if per_week else 'day'}"
    if found.crosses_in_days is not None and found.limit is not None:
        text += f"; crosses {found.limit:g} {unit} in about {found.crosses_in_days:.0f} days"
    return text
