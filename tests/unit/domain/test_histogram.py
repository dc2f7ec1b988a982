"""Latency histograms: binning, merging, percentiles within one bin's width."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from wfmon.domain.histogram import (
    LAST_BIN,
    N_BINS,
    Histogram,
    bin_bounds,
    bin_of,
    bins_from_json,
    histogram_of,
    percentile,
)

durations = st.lists(
    st.floats(min_value=0.01, max_value=500_000, allow_nan=False), min_size=1, max_size=300
)


def test_every_value_falls_inside_its_bins_bounds() -> None:
    for value in (0.0, 0.5, 1.0, 1.1, 2.0, 37.5, 1000.0, 131_071.9, 131_072.0, 9e9):
        low, high = bin_bounds(bin_of(value))
        assert low <= value < high or (bin_of(value) == LAST_BIN and value >= low), value
    assert bin_of(float("nan")) == 0
    assert N_BINS == 70


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


@given(durations, st.sampled_from([50.0, 95.0, 99.0]))
def test_a_percentile_is_within_one_bin_of_the_exact_one(values: list[float], q: float) -> None:
    estimate = histogram_of(values).percentile(q)
    exact = nearest_rank(values, q)
    assert estimate is not None
    low, high = bin_bounds(bin_of(exact))
    if math.isinf(high):  # the overflow bin: clamped to the largest value seen
        assert low <= estimate <= max(values)
    else:
        assert min(low, min(values)) * (1 - 1e-9) <= estimate <= max(high, exact) * (1 + 1e-9)


@given(durations, durations)
def test_merging_two_histograms_equals_one_of_all_values(a: list[float], b: list[float]) -> None:
    merged = histogram_of(a)
    merged.merge(histogram_of(b))
    whole = histogram_of(a + b)
    assert merged.bins == whole.bins
    assert merged.count == whole.count
    assert merged.min_ms == whole.min_ms
    assert merged.max_ms == whole.max_ms
    assert math.isclose(merged.sum_ms, whole.sum_ms, rel_tol=1e-9)


def test_identical_values_give_that_value_exactly() -> None:
    assert histogram_of([250.0] * 10).percentile(99) == 250.0


def test_an_empty_histogram_has_no_percentile() -> None:
    assert Histogram().percentile(50) is None
    assert Histogram().mean_ms is None
    assert percentile({}, 95) is None


def test_the_stored_form_round_trips() -> None:
    hist = histogram_of([1.0, 2.0, 2.1, 900.0])
    assert bins_from_json(hist.to_json()) == hist.bins
    assert all(isinstance(k, str) for k in hist.to_json())
