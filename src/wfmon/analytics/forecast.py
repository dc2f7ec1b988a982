"""Latency forecasts with prediction intervals: ETS (additive error and daily seasonality,
statsmodels) on the log of per-bucket medians, or the naive last value when ETS does not
beat it on the series' own recent history.

Buckets are an hour, or the journey's interval when it runs less often (a 4-hourly journey
gets 4-hour buckets and a season of 6). Empty buckets (an outage: no successful runs) carry
the last value forward, which is what the naive forecaster would say there anyway.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
from statsmodels.tsa.exponential_smoothing.ets import (  # type: ignore[import-untyped]
    ETSModel,  # statsmodels ships no stubs
)

DAY_S = 86_400.0
HOUR_S = 3_600.0
Z_95 = 1.959964


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


def naive(y: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, standard deviation) of the last-value forecast on the log scale."""
    steps = np.arange(1, horizon + 1)
    sd = float(np.std(np.diff(y))) if len(y) > 2 else 0.0
    return np.full(horizon, y[-1]), sd * np.sqrt(steps)


def ets(y: np.ndarray, horizon: int, season: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, standard deviation) of an additive ETS forecast on the log scale."""
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
    mean = np.asarray(frame["mean"], dtype=float)
    sd = (np.asarray(frame["pi_upper"], dtype=float) - mean) / Z_95
    return mean, sd


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


def forecast(
    times: Sequence[float], values: Sequence[float], horizon_s: float = DAY_S, *, check: int = 3
) -> Forecast:
    """Forecast a latency series `horizon_s` ahead. ETS is used only when it beats the
    naive forecast on the series' own last `check` days (rolling origin); else naive."""
    bucket = bucket_size(times)
    start, y = aggregate(times, values, bucket)
    horizon = max(1, round(horizon_s / bucket))
    season = round(DAY_S / bucket)
    method = "naive"
    if check and len(y) > (check + 2) * season:
        model_err = naive_err = 0.0
        for k in range(check, 0, -1):
            cut = len(y) - k * horizon
            train, test = y[:cut], y[cut : cut + horizon]
            model_err += mase(test, ets(train, len(test), season)[0], train, season)
            naive_err += mase(test, naive(train, len(test))[0], train, season)
        method = "ets" if model_err < naive_err else "naive"
    mean, sd = ets(y, horizon, season) if method == "ets" else naive(y, horizon)
    return Forecast(
        method,
        start + len(y) * bucket,
        bucket,
        tuple(float(v) for v in np.exp(mean)),
        tuple(float(v) for v in np.exp(mean - Z_95 * sd)),
        tuple(float(v) for v in np.exp(mean + Z_95 * sd)),
    )


@dataclass(frozen=True)
class ForecastFigures:
    series: int
    origins: int
    mase_model: float
    mase_naive: float
    coverage: float  # share of actual values inside the model's 95 % interval

    @property
    def beats_naive(self) -> bool:
        return self.mase_model < self.mase_naive


def backtest(
    series: Sequence[tuple[Sequence[float], Sequence[float]]],
    *,
    train_days: float = 14.0,
    horizon_s: float = DAY_S,
) -> ForecastFigures:
    """Rolling origin: at every whole day after `train_days`, fit on everything before it
    and forecast the next `horizon_s`; MASE per origin, averaged over origins and series."""
    model_scores: list[float] = []
    naive_scores: list[float] = []
    inside = total = 0
    for times, values in series:
        bucket = bucket_size(times)
        _start, y = aggregate(times, values, bucket)
        season = round(DAY_S / bucket)
        horizon = max(1, round(horizon_s / bucket))
        cut = round(train_days * DAY_S / bucket)
        while cut + horizon <= len(y):
            train, test = y[:cut], y[cut : cut + horizon]
            mean, sd = ets(train, horizon, season)
            model_scores.append(mase(test, mean, train, season))
            naive_scores.append(mase(test, naive(train, horizon)[0], train, season))
            inside += int(np.sum(np.abs(test - mean) <= Z_95 * sd))
            total += horizon
            cut += horizon
    return ForecastFigures(
        len(series),
        len(model_scores),
        float(np.nanmean(model_scores)) if model_scores else math.nan,
        float(np.nanmean(naive_scores)) if naive_scores else math.nan,
        inside / total if total else math.nan,
    )
