"""Latency histograms with fixed log-spaced bins: merged by adding, percentiles by walking.

Rollups keep one histogram per (workflow, step, minute or hour). The bins are the same for
every histogram, so merging two is adding counts bin by bin, and a percentile over any
period is read from the merged counts without the raw samples.

Bins: bin 0 holds values under 1 ms; bin i (1..68) holds [2^((i-1)/4), 2^(i/4)) ms, four
per doubling, up to 2^17 ms (131 s); bin 69 holds everything longer. A percentile is
interpolated inside its bin (geometrically) and clamped to the observed min and max, so it
is off by at most one bin width (19 %) and exact when all values in the bin are equal.
Stored sparsely: only non-empty bins, as {"bin": count}.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

BINS_PER_DOUBLING = 4
TOP_EXPONENT = 17  # 2^17 ms = 131 s: longer runs share the last bin
N_BINS = BINS_PER_DOUBLING * TOP_EXPONENT + 2  # under 1 ms, 68 log bins, overflow
LAST_BIN = N_BINS - 1


def bin_of(value_ms: float) -> int:
    """The bin a duration falls in."""
    if not value_ms >= 1.0:  # also NaN
        return 0
    index = math.floor(math.log2(value_ms) * BINS_PER_DOUBLING) + 1
    return min(index, LAST_BIN)


def bin_bounds(index: int) -> tuple[float, float]:
    """[low, high) of a bin in ms; the last bin's high is infinity."""
    if index <= 0:
        return 0.0, 1.0
    if index >= LAST_BIN:
        return 2.0**TOP_EXPONENT, math.inf
    return 2.0 ** ((index - 1) / BINS_PER_DOUBLING), 2.0 ** (index / BINS_PER_DOUBLING)


@dataclass
class Histogram:
    """Counts per bin plus count, sum, min and max: everything a rollup row holds."""

    bins: dict[int, int] = field(default_factory=dict)
    count: int = 0
    sum_ms: float = 0.0
    min_ms: float | None = None
    max_ms: float | None = None

    def add(self, value_ms: float) -> None:
        index = bin_of(value_ms)
        self.bins[index] = self.bins.get(index, 0) + 1
        self.count += 1
        self.sum_ms += value_ms
        self.min_ms = value_ms if self.min_ms is None else min(self.min_ms, value_ms)
        self.max_ms = value_ms if self.max_ms is None else max(self.max_ms, value_ms)

    def merge(self, other: Histogram) -> None:
        for index, n in other.bins.items():
            self.bins[index] = self.bins.get(index, 0) + n
        self.count += other.count
        self.sum_ms += other.sum_ms
        if other.min_ms is not None:
            self.min_ms = other.min_ms if self.min_ms is None else min(self.min_ms, other.min_ms)
        if other.max_ms is not None:
            self.max_ms = other.max_ms if self.max_ms is None else max(self.max_ms, other.max_ms)

    @property
    def mean_ms(self) -> float | None:
        return self.sum_ms / self.count if self.count else None

    def percentile(self, q: float) -> float | None:
        """The q-th percentile (0 < q <= 100) in ms, nearest rank; None when empty."""
        return percentile(self.bins, q, self.min_ms, self.max_ms)

    def to_json(self) -> dict[str, int]:
        return bins_to_json(self.bins)

    @classmethod
    def from_parts(
        cls,
        bins: Mapping[str, int] | Mapping[int, int] | None,
        count: int,
        sum_ms: float,
        min_ms: float | None,
        max_ms: float | None,
    ) -> Histogram:
        return cls(bins_from_json(bins), count, sum_ms, min_ms, max_ms)


def bins_to_json(bins: Mapping[int, int]) -> dict[str, int]:
    """The stored form: JSON objects have text keys."""
    return {str(index): n for index, n in sorted(bins.items()) if n}


def bins_from_json(data: Mapping[str, int] | Mapping[int, int] | None) -> dict[int, int]:
    if not data:
        return {}
    return {int(index): int(n) for index, n in data.items()}


def percentile(
    bins: Mapping[int, int], q: float, min_ms: float | None = None, max_ms: float | None = None
) -> float | None:
    """The q-th percentile of binned counts, interpolated within its bin and clamped."""
    total = sum(bins.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q / 100.0 * total))  # nearest rank, 1-based
    seen = 0
    for index in sorted(bins):
        n = bins[index]
        if n <= 0:
            continue
        if seen + n >= rank:
            low, high = bin_bounds(index)
            if min_ms is not None:
                low = max(low, min_ms)
            if max_ms is not None:
                high = min(high, max_ms)
            if high < low:  # min/max from a different merge order; trust the bounds
                high = low
            fraction = (rank - seen) / n
            return _between(low, high, fraction)
        seen += n
    return max_ms


def _between(low: float, high: float, fraction: float) -> float:
    if math.isinf(high) or fraction <= 0.0:
        return low
    if fraction >= 1.0:
        return high
    if low <= 0.0 or high <= low:
        return low + (high - low) * fraction
    return float(low * (high / low) ** fraction)


def histogram_of(values: Iterable[float]) -> Histogram:
    """A histogram of the given durations (tests, backfill)."""
    result = Histogram()
    for value in values:
        result.add(value)
    return result
