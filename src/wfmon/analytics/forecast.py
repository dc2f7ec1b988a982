"""Latency forecasts with prediction intervals.

Shipped: a robust seasonal model (`seasonal`: the median daily profile of the last week on
top of the last day's median level, on the log of per-bucket medians) with an empirical 95 %
interval from its own recent errors, or the naive last value for a series where it did not
beat that on the series' own last days. ETS (statsmodels, additive error and seasonality)
is kept as the reference it is measured against: on the tuning corpus it lost to the
seasonal model on fault-free days (a fault in the history bends ETS' level and season for
days; medians shrug it off) and took 40x the time (docs/analytics.md).

Buckets are an hour, or the journey's interval when it runs less often (a 4-hourly journey
gets 4-hour buckets and a season of 6). Empty buckets (an outage: no successful runs) carry
the last value forward, which is what the naive forecaster would say there anyway.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
from statsmodels.tsa.exponential_smoothing.ets import (  # type: ignore[import-untyped]
    ETSModel,  # statsmodels ships no stubs
)

DAY_S = 86_400.0
HOUR_S = 3_600.0
Z_95 = 1.959964
PROFILE_DAYS = 7  # the days the seasonal profile (and its interval) is read from
CHECK_DAYS = 3  # the recent days a series' model must beat the naive forecast on


@dataclass(frozen=True)
class Forecast:
    method: str  # ets | naive
    start: float  # epoch seconds of the first forecast bucket
    bucket_s: float
    mean: tuple[float, ...]
    low: tuple[float, ...]  # 95 % prediction interval
    high: tuple[float, ...]


def bucket_size(times: Sequence[float]) -> float:
    """An hour, or the typical gap between points rounded up to a divisor of a day."""
    if len(times) < 3:
        return HOUR_S
    gap = float(np.median(np.diff(np.asarray(times))))
    for hours in (1, 2, 3, 4, 6, 8, 12, 24):
        if gap <= hours * HOUR_S * 1.01:
            return hours * HOUR_S
    return DAY_S


def aggregate(
    times: Sequence[float], values: Sequence[float], bucket_s: float
) -> tuple[float, np.ndarray]:
    """(start of the first bucket, log of each bucket's median), gaps carried forward."""
    t = np.asarray(times, dtype=float)
    v = np.log(np.maximum(np.asarray(values, dtype=float), 1e-3))
    index = np.floor(t / bucket_s).astype(np.int64)
    first = int(index[0])
    n = int(index[-1]) - first + 1
    out = np.full(n, np.nan)
    order = np.argsort(index, kind="stable")
    index, v = index[order], v[order]
    bounds = np.flatnonzero(np.diff(index)) + 1
    for chunk_i, chunk_v in zip(np.split(index, bounds), np.split(v, bounds), strict=True):
        out[int(chunk_i[0]) - first] = float(np.median(chunk_v))
    for i in range(1, n):
        if math.isnan(out[i]):
            out[i] = out[i - 1]
    return first * bucket_s, out


# A forecaster: (history, horizon, season) -> (mean, low, high) on the log scale, the
# bounds a 95 % prediction interval.
Method = Callable[[np.ndarray, int, int], tuple[np.ndarray, np.ndarray, np.ndarray]]


def naive(
    y: np.ndarray, horizon: int, season: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The last value, its interval widening as a random walk's."""
    steps = np.arange(1, horizon + 1)
    sd = float(np.std(np.diff(y))) if len(y) > 2 else 0.0
    mean = np.full(horizon, y[-1])
    return mean, mean - Z_95 * sd * np.sqrt(steps), mean + Z_95 * sd * np.sqrt(steps)


def ets(y: np.ndarray, horizon: int, season: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Additive ETS (statsmodels) with additive seasonality: the textbook reference."""
    seasonal = "add" if season >= 2 and len(y) >= 2 * season + 2 else None
    model = ETSModel(
        # A pandas Series: statsmodels' prediction intervals index their result by it.
        pd.Series(y),
        error="add",
        trend=None,
        seasonal=seasonal,
        seasonal_periods=season if seasonal else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short or flat series
        fitted = model.fit(disp=False, maxiter=200)
        frame = fitted.get_prediction(start=len(y), end=len(y) + horizon - 1).summary_frame(
            alpha=0.05
        )
    return (
        np.asarray(frame["mean"], dtype=float),
        np.asarray(frame["pi_lower"], dtype=float),
        np.asarray(frame["pi_upper"], dtype=float),
    )


def _seasonal_mean(y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Robust level + seasonal profile: the profile is each bucket's median deviation from
    its day's median over the last `PROFILE_DAYS` days; the level the median of the last
    day with the profile taken out. Medians, so an outage or a slow afternoon in the history
    moves neither, and a level shift is followed within a day."""
    days = min(PROFILE_DAYS, len(y) // season)
    block = y[len(y) - days * season :].reshape(days, season)
    profile = np.median(block - np.median(block, axis=1, keepdims=True), axis=0)
    last = block[-1]
    level = float(np.median(last - profile))
    # Column c of `block` holds the buckets at y index len(y) - days * season + c (mod
    # season), so the h-th bucket ahead, len(y) + h, is column h % season.
    return np.asarray(level + profile[np.arange(horizon) % season], dtype=float)


def seasonal(y: np.ndarray, horizon: int, season: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The robust seasonal forecast (`_seasonal_mean`), with the interval taken from its own
    errors: the 2.5 and 97.5 percentiles of what it got wrong forecasting each of the last
    `PROFILE_DAYS` days from the days before (empirical, so heavy tails are honoured)."""
    if season < 2 or len(y) < 2 * season:
        return naive(y, horizon)
    mean = _seasonal_mean(y, horizon, season)
    errors = []
    for k in range(1, PROFILE_DAYS + 1):
        cut = len(y) - k * season
        if cut < 2 * season:
            break
        errors.append(y[cut : cut + season] - _seasonal_mean(y[:cut], season, season))
    if not errors:
        return naive(y, horizon)
    low, high = np.percentile(np.concatenate(errors), [2.5, 97.5])
    return mean, mean + low, mean + high


METHODS: dict[str, Method] = {"seasonal": seasonal, "ets": ets, "naive": naive}
SHIPPED = "seasonal"  # the model the product forecasts with (naive where it does not beat it)


def mase(actual: np.ndarray, predicted: np.ndarray, train: np.ndarray, season: int = 1) -> float:
    """Mean absolute scaled error, in the original units (exp of the log medians), scaled by
    the in-sample error of the seasonal naive forecast (lag `season`), as in the M4
    competition: the usual scale for seasonal data, and the same for every method compared."""
    history = np.exp(train)
    lag = season if len(history) > season + 1 else 1
    scale = float(np.mean(np.abs(history[lag:] - history[:-lag])))
    if scale <= 0:
        return math.nan
    return float(np.mean(np.abs(np.exp(actual) - np.exp(predicted)))) / scale


def choose(y: np.ndarray, horizon: int, season: int, check: int = CHECK_DAYS) -> str:
    """`SHIPPED` where it beat the naive forecast on the series' own last `check` horizons
    (rolling origin, MASE), else "naive": a model that does not beat the baseline is not
    shipped for that series."""
    if not check or len(y) <= (check + 2) * season:
        return "naive"
    model_err = naive_err = 0.0
    for k in range(check, 0, -1):
        cut = len(y) - k * horizon
        train, test = y[:cut], y[cut : cut + horizon]
        model_err += mase(test, METHODS[SHIPPED](train, len(test), season)[0], train, season)
        naive_err += mase(test, naive(train, len(test))[0], train, season)
    return SHIPPED if model_err < naive_err else "naive"


def forecast(
    times: Sequence[float], values: Sequence[float], horizon_s: float = DAY_S, *, check: int = 3
) -> Forecast:
    """Forecast a latency series `horizon_s` ahead with `SHIPPED`, or the naive forecast
    where that did not beat it on the series' own last `check` days."""
    bucket = bucket_size(times)
    start, y = aggregate(times, values, bucket)
    horizon = max(1, round(horizon_s / bucket))
    season = round(DAY_S / bucket)
    method = choose(y, horizon, season, check)
    mean, low, high = METHODS[method](y, horizon, season)
    return Forecast(
        method,
        start + len(y) * bucket,
        bucket,
        tuple(float(v) for v in np.exp(mean)),
        tuple(float(v) for v in np.exp(low)),
        tuple(float(v) for v in np.exp(high)),
    )


@dataclass(frozen=True)
class MethodFigures:
    """One method's rolling-origin figures: MASE averaged over origins, on every origin and
    on the fault-free ones (no labelled fault in the forecast day), and its 95 % interval's
    coverage on the fault-free ones."""

    mase_all: float
    mase_clean: float
    coverage_clean: float


@dataclass(frozen=True)
class ForecastFigures:
    series: int
    origins: int
    clean_origins: int
    methods: dict[str, MethodFigures]  # "shipped" (as the product chooses), "naive", ...

    @property
    def shipped(self) -> MethodFigures:
        return self.methods["shipped"]

    @property
    def naive(self) -> MethodFigures:
        return self.methods["naive"]


Span = tuple[float, float]


def backtest(
    series: Sequence[tuple[Sequence[float], Sequence[float], Sequence[Span]]],
    *,
    train_days: float = 14.0,
    horizon_s: float = DAY_S,
    compare: Sequence[str] = ("ets",),
) -> ForecastFigures:
    """Rolling origin: at every whole day after `train_days`, fit on everything before it
    and forecast the next `horizon_s` (no lookahead: the shipped model is also chosen on
    the history alone). Each series comes with its labelled fault spans (epoch seconds):
    an origin whose forecast day overlaps one is not fault-free. MASE per origin, averaged
    over origins and series."""
    names = ("shipped", "naive", *compare)
    scores: dict[str, list[float]] = {n: [] for n in names}
    clean: dict[str, list[float]] = {n: [] for n in names}
    inside = {n: 0 for n in names}
    total = origins = 0
    for times, values, faults in series:
        bucket = bucket_size(times)
        start, y = aggregate(times, values, bucket)
        season = round(DAY_S / bucket)
        horizon = max(1, round(horizon_s / bucket))
        cut = round(train_days * DAY_S / bucket)
        while cut + horizon <= len(y):
            train, test = y[:cut], y[cut : cut + horizon]
            t0 = start + cut * bucket
            t1 = t0 + horizon * bucket
            fault_free = not any(a < t1 and b > t0 for a, b in faults)
            origins += 1
            total += horizon if fault_free else 0
            for name in names:
                method = choose(train, horizon, season) if name == "shipped" else name
                mean, low, high = METHODS[method](train, horizon, season)
                score = mase(test, mean, train, season)
                scores[name].append(score)
                if fault_free:
                    clean[name].append(score)
                    inside[name] += int(np.sum((test >= low) & (test <= high)))
            cut += horizon
    return ForecastFigures(
        len(series),
        origins,
        len(clean["naive"]),
        {
            n: MethodFigures(
                _mean(scores[n]), _mean(clean[n]), inside[n] / total if total else math.nan
            )
            for n in names
        },
    )


def _mean(values: Sequence[float]) -> float:
    return float(np.nanmean(values)) if values else math.nan
