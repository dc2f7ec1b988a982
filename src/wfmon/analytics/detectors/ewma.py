"""The textbook baseline: an exponentially weighted mean and variance, scored by z.

Not robust (an outage's latencies drag the mean and inflate the variance) and not seasonal:
it is in the registry so the backtest can show what the robust detectors buy over it.
"""

from __future__ import annotations

import math
from typing import ClassVar, Self

from wfmon.analytics.detectors.base import Score, State, evidence_score

_WARMING = ("warming up",)
_EWMA = ("ewma",)


class EwmaDetector:
    name: ClassVar[str] = "ewma"

    __slots__ = ("alpha", "band", "floor", "mean", "min_points", "n", "var", "z_half")

    def __init__(
        self,
        alpha: float = 0.05,
        z_half: float = 4.0,
        min_points: int = 12,
        floor: float = 0.03,
        band: float = 3.0,
    ) -> None:
        self.alpha = alpha
        self.z_half = z_half
        self.min_points = min_points
        self.floor = floor
        self.band = band
        self.mean = 0.0
        self.var = 0.0
        self.n = 0

    def update(self, t: float, x: float) -> Score:
        y = math.log1p(x) if x > 0.0 else 0.0
        n = self.n = self.n + 1
        if n == 1:
            self.mean = y
            return Score(0.0, x, x, _WARMING)
        sigma = max(math.sqrt(self.var), self.floor)
        z = (y - self.mean) / sigma
        # Plain moving averages for the first points, then exponential.
        a = max(1.0 / n, self.alpha)
        diff = y - self.mean
        self.mean += a * diff
        self.var = (1.0 - a) * (self.var + a * diff * diff)
        if n <= self.min_points:
            return Score(0.0, x, x, _WARMING)
        low = math.expm1(self.mean - self.band * sigma)
        high = math.expm1(self.mean + self.band * sigma)
        return Score(evidence_score(z, self.z_half), max(0.0, low), high, _EWMA)

    def state(self) -> State:
        return {
            "detector": self.name,
            "alpha": self.alpha,
            "z_half": self.z_half,
            "min_points": self.min_points,
            "floor": self.floor,
            "band": self.band,
            "mean": self.mean,
            "var": self.var,
            "n": self.n,
        }

    @classmethod
    def from_state(cls, state: State) -> Self:
        detector = cls(
            float(state["alpha"]),
            float(state["z_half"]),
            int(state["min_points"]),
            float(state["floor"]),
            float(state["band"]),
        )
        detector.mean = float(state["mean"])
        detector.var = float(state["var"])
        detector.n = int(state["n"])
        return detector
