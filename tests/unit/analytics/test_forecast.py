"""Forecasts on synthetic latency series whose truth is known: the seasonal model learns the
daily shape, shrugs off a fault in its history, follows a level shift within a day, keeps
its interval honest, and is only shipped where it beats the naive forecast."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wfmon.analytics.forecast import (
    DAY_S,
    HOUR_S,
    aggregate,
    backtest,
    choose,
    forecast,
    mase,
    naive,
    seasonal,
)

T0 = 1_767_571_200.0  # 2026-01-05 00:00 UTC, a Monday


def _truth(t: np.ndarray) -> np.ndarray:
    """A 200 ms journey with a daily peak x1.6 at 15:00 UTC."""
    hour = (t % DAY_S) / HOUR_S
    return 200.0 * (1.0 + 0.6 * np.exp(-0.5 * ((hour - 15.0) / 3.0) ** 2))


def _series(days: float, step_s: float = 900.0, noise: float = 0.1, seed: int = 1):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    t = T0 + np.arange(0.0, days * DAY_S, step_s)
    return t, _truth(t) * rng.lognormal(0.0, noise, len(t))


def test_the_seasonal_model_learns_the_daily_shape() -> None:
    t, v = _series(21)
    result = forecast(list(t), list(v))
    assert result.method == "seasonal"
    assert result.bucket_s == HOUR_S
    assert len(result.mean) == 24
    ahead = result.start + HOUR_S * (np.arange(24) + 0.5)
    error = np.abs(np.asarray(result.mean) - _truth(ahead)) / _truth(ahead)
    # Each hour's bucket is the median of four points with 10 % noise (about 6 % apart day to
    # day): the forecast is within 4 % of the truth on average and 15 % at worst.
    assert float(np.mean(error)) < 0.04
    assert float(np.max(error)) < 0.15
    assert all(
        lo <= m <= hi for lo, m, hi in zip(result.low, result.mean, result.high, strict=True)
    )


def test_a_fault_in_the_history_does_not_bend_tomorrow() -> None:
    t, v = _series(21)
    # Yesterday 10:00-13:00: a degradation up to +800 ms, gone by 13:00.
    fault = (t >= T0 + 20 * DAY_S + 10 * HOUR_S) & (t < T0 + 20 * DAY_S + 13 * HOUR_S)
    v = v + np.where(fault, 800.0, 0.0)
    _start, y = aggregate(list(t), list(v), HOUR_S)
    mean = np.exp(seasonal(y, 24, 24)[0])
    truth = _truth(T0 + 21 * DAY_S + HOUR_S * (np.arange(24) + 0.5))
    error = np.abs(mean - truth) / truth
    assert float(np.mean(error)) < 0.04  # as without the fault (see above)
    assert float(np.max(error[9:14])) < 0.15  # the hours the fault hit yesterday included


def test_a_level_shift_is_followed_within_a_day() -> None:
    t, v = _series(21)
    v = np.where(t >= T0 + 19.5 * DAY_S, v * 2.0, v)  # a release doubled every request
    result = forecast(list(t), list(v))
    ahead = result.start + HOUR_S * (np.arange(24) + 0.5)
    ratio = np.asarray(result.mean) / _truth(ahead)
    assert 1.8 < float(np.median(ratio)) < 2.2


def test_the_interval_covers_about_95_percent() -> None:
    t, v = _series(28, noise=0.2, seed=3)
    _start, y = aggregate(list(t), list(v), HOUR_S)
    inside = total = 0
    for day in range(14, 28):
        train, test = y[: day * 24], y[day * 24 : (day + 1) * 24]
        _mean, low, high = seasonal(train, 24, 24)
        inside += int(np.sum((test >= low) & (test <= high)))
        total += len(test)
    assert 0.85 <= inside / total <= 1.0


def test_naive_is_shipped_where_the_model_does_not_beat_it() -> None:
    # No daily shape, a level that wanders hour by hour: a profile of the last week is noise
    # and the last value is the better guess.
    rng = np.random.default_rng(5)
    y = 5.0 + np.cumsum(rng.normal(0.0, 0.1, 14 * 24))
    assert choose(y, 24, 24) == "naive"
    assert forecast([T0], [100.0]).method == "naive"  # one point: nothing to choose from


def test_the_forecast_starts_where_the_history_ends_at_any_hour() -> None:
    t, v = _series(20.5)  # the history ends at noon: the forecast starts at 12:00
    result = forecast(list(t), list(v))
    assert result.start == T0 + 20.5 * DAY_S
    assert int(np.argmax(result.mean)) in (2, 3)  # the 15:00 peak: 14:00-16:00


def test_mase_is_scaled_by_the_seasonal_naive_error() -> None:
    train = np.log(np.array([100.0, 200.0] * 10))
    assert mase(np.log([110.0]), np.log([100.0]), train, 1) == pytest.approx(10.0 / 100.0)
    # A perfectly periodic history has no seasonal-naive error: there is no scale.
    assert math.isnan(mase(np.log([110.0]), np.log([100.0]), train, 2))


def test_the_backtest_tells_fault_days_from_fault_free_ones() -> None:
    t, v = _series(21)
    span = (T0 + 17 * DAY_S + 9 * HOUR_S, T0 + 17 * DAY_S + 15 * HOUR_S)
    v = np.where((t >= span[0]) & (t < span[1]), v + 1000.0, v)
    figures = backtest([(list(t), list(v), [span])], compare=())
    assert (figures.origins, figures.clean_origins) == (7, 6)
    shipped, base = figures.shipped, figures.naive
    assert shipped.mase_clean < 0.9
    assert shipped.mase_clean < base.mase_clean
    assert shipped.mase_all > shipped.mase_clean  # the fault day is not forecastable
    assert 0.8 <= shipped.coverage_clean <= 1.0
    assert naive(np.zeros(3), 2)[0].tolist() == [0.0, 0.0]
