"""The registry of streaming detectors: one name, one factory, one line each.

`default` is what the product runs on latency series (duration, ttfb) and `failures` on
success-rate series; the others are there to be measured against (`wfmon analyze backtest
--detector NAME`, `wfmon analyze score-series --detector NAME`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from wfmon.analytics.detectors.base import Detector, Score, State, evidence_score
from wfmon.analytics.detectors.ewma import EwmaDetector
from wfmon.analytics.detectors.failures import FailureRateDetector
from wfmon.analytics.detectors.level import LevelConfig, LevelDetector
from wfmon.analytics.runs import RATE_METRICS

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "Detector",
    "DetectorSpec",
    "FailureRateDetector",
    "LevelConfig",
    "LevelDetector",
    "Score",
    "State",
    "evidence_score",
    "from_state",
    "make_detector",
]

DEFAULT_DETECTOR = "default"


@dataclass(frozen=True)
class DetectorSpec:
    name: str
    summary: str
    # Latency-style series in the product (milliseconds, only slower is an anomaly).
    build: Callable[[], Detector]
    # Arbitrary data for `score-series` (any units, either direction).
    build_generic: Callable[[], Detector]


def _level(**changes: object) -> Callable[[], Detector]:
    config = LevelConfig(**changes)  # type: ignore[arg-type]  # keyword names checked at import
    return lambda: LevelDetector(config)


def _generic(**changes: object) -> Callable[[], Detector]:
    return _level(two_sided=True, transform="scaled", abs_floor=0.0, **changes)


_SPECS = (
    DetectorSpec(
        "default",
        "robust level + seasonal profile (hour, weekday) + CUSUM confirmation",
        _level(),
        _generic(),
    ),
    DetectorSpec(
        "robust-cusum",
        "robust level (rolling median, IQR) + CUSUM confirmation, no seasonality",
        _level(seasonal=False),
        _generic(seasonal=False),
    ),
    DetectorSpec(
        "robust-z",
        "robust level, each point scored alone (z = 4 scores 0.5)",
        _level(seasonal=False, cusum=False),
        _generic(seasonal=False, cusum=False),
    ),
    DetectorSpec(
        "ewma",
        "exponentially weighted mean and variance, each point scored alone",
        EwmaDetector,
        EwmaDetector,
    ),
)

DETECTORS: Mapping[str, DetectorSpec] = MappingProxyType({s.name: s for s in _SPECS})

_CLASSES: Mapping[str, Callable[[State], Detector]] = MappingProxyType(
    {
        LevelDetector.name: LevelDetector.from_state,
        EwmaDetector.name: EwmaDetector.from_state,
        FailureRateDetector.name: FailureRateDetector.from_state,
    }
)


def make_detector(name: str, metric: str = "duration", *, generic: bool = False) -> Detector:
    """A fresh detector for a series of `metric` (rate series always get `failures`)."""
    if metric in RATE_METRICS:
        return FailureRateDetector()
    try:
        spec = DETECTORS[name]
    except KeyError:
        known = ", ".join(DETECTORS)
        raise ValueError(f"no detector {name!r}; known: {known}") from None
    return spec.build_generic() if generic else spec.build()


def from_state(state: State) -> Detector:
    """The detector a saved `state()` came from, resumed."""
    return _CLASSES[str(state["detector"])](state)
