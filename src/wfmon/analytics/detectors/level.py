"""The latency detectors: a robust rolling level, optionally a seasonal profile on top,
scored point by point or confirmed by a CUSUM.

Values are compared on a log scale: latencies are right-skewed and multiplicative (a deploy
doubles a step, it does not add 40 ms to it), and on a log scale the spread of a 40 ms step
and a 4 s step are alike, so one set of constants fits every series.

- level: the median of the last `window` (deseasonalised) points; scale: their interquartile
  range as a standard deviation, floored (see `_floor`) so a very steady series does not
  page on a 2 % wobble or a 1 ms one.
- z: how many scales the point sits above the expected value (level + seasonal offset);
  below it too when `two_sided` (score-series, where data can be anything).
- CUSUM: `S = max(0, S + min(z, clip) - k)`. A single point adds at most `clip - k`, which
  is below `h`, so one outlier can never reach the threshold alone; two points at z >= 3.5
  do, and so does a smaller shift that lasts. Evidence `S` maps to the score with `h` at 0.5.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar, Literal, Self

from wfmon.analytics.detectors.base import Score, State, evidence_score
from wfmon.analytics.detectors.seasonal import SeasonalProfile
from wfmon.analytics.detectors.window import IQR_TO_SIGMA, RollingWindow

Transform = Literal["log1p", "scaled"]

_WARMING = ("warming up",)
_LEVEL = ("level",)
_SEASONAL = ("level", "seasonal")
_CUSUM = ("level", "sustained")
_SEASONAL_CUSUM = ("level", "seasonal", "sustained")


@dataclass(frozen=True)
class LevelConfig:
    """The constants of one detector; the defaults are the shipped ones (chosen on the
    tuning corpus, seed 1, see docs/analytics.md)."""

    window: int = 64
    min_points: int = 12
    seasonal: bool = True
    cusum: bool = True
    k: float = 1.0  # CUSUM allowance, in scales
    h: float = 5.0  # CUSUM evidence that scores 0.5
    clip: float = 4.0  # the most one point adds to the CUSUM (+ k)
    z_half: float = 4.0  # without CUSUM: the z that scores 0.5
    rel_floor: float = 0.03  # the least scale on the log scale (3 %)
    abs_floor: float = 1.0  # the least scale in the series' units (1 ms), log1p only
    band: float = 3.0  # the expected range is level ± band scales
    two_sided: bool = False
    transform: Transform = "log1p"
    gap_s: float = 6 * 3600.0  # a pause this long resets the CUSUM: old evidence is stale


class LevelDetector:
    """Robust level (+ seasonal profile) (+ CUSUM confirmation); see the module docstring."""

    name: ClassVar[str] = "level"

    __slots__ = (
        "_profile",
        "_s0",
        "config",
        "cusum_down",
        "cusum_up",
        "last_t",
        "last_z",
        "window",
    )

    def __init__(self, config: LevelConfig | None = None) -> None:
        self.config = config or LevelConfig()
        self.window = RollingWindow(self.config.window)
        self._profile = SeasonalProfile() if self.config.seasonal else None
        self.cusum_up = 0.0
        self.cusum_down = 0.0
        self.last_t: float | None = None
        self.last_z = 0.0  # the last point's z (0 while warming up): for corroboration
        self._s0: float | None = None  # the `scaled` transform's unit, fixed by the first point

    @property
    def warmed_up(self) -> bool:
        return len(self.window) >= self.config.min_points

    # -- transforms ------------------------------------------------------------------------

    def _forward(self, x: float) -> float:
        if self.config.transform == "log1p":
            return math.log1p(x) if x > 0.0 else 0.0
        s0 = self._s0
        if s0 is None:
            s0 = self._s0 = abs(x) or 1.0
        v = x / s0
        return math.log1p(v) if v >= 0.0 else -math.log1p(-v)

    def _inverse(self, y: float) -> float:
        if self.config.transform == "log1p":
            return math.expm1(y) if y > 0.0 else 0.0
        s0 = self._s0 or 1.0
        return s0 * (math.expm1(y) if y >= 0.0 else -math.expm1(-y))

    def _floor(self, level: float) -> float:
        config = self.config
        if config.transform != "log1p":
            return config.rel_floor
        # `abs_floor` ms at this level, on the log scale: a 2 ms step must move by more
        # than a millisecond before it counts, whatever its relative spread (2 ms was
        # tried first: it hid a bad deploy doubling a 3.5 ms health check for hours).
        return max(config.rel_floor, math.log1p(config.abs_floor / (math.expm1(level) + 1.0)))

    # -- scoring ---------------------------------------------------------------------------

    def update(self, t: float, x: float) -> Score:
        config = self.config
        y = self._forward(x)
        profile = self._profile
        offset = profile.offset(t) if profile is not None else 0.0
        window = self.window
        last = self.last_t
        self.last_t = t
        if last is not None and t - last > config.gap_s:
            self.cusum_up = self.cusum_down = 0.0
        if len(window) < config.min_points:
            self.last_z = 0.0
            window.push(y - offset)
            if profile is not None:
                profile.learn(t, y, math.inf)
            return Score(0.0, x, x, _WARMING)
        q1, level, q3 = window.quartiles()
        sigma = (q3 - q1) * IQR_TO_SIGMA
        floor = self._floor(level)
        if sigma < floor:
            sigma = floor
        expected = level + offset
        z = (y - expected) / sigma
        self.last_z = z
        if config.cusum:
            clip = config.clip
            k = config.k
            up = self.cusum_up + (z if z < clip else clip) - k
            self.cusum_up = up = up if up > 0.0 else 0.0
            evidence = up
            if config.two_sided:
                down = self.cusum_down + (-z if -z < clip else clip) - k
                self.cusum_down = down = down if down > 0.0 else 0.0
                if down > evidence:
                    evidence = down
            score = evidence_score(evidence, config.h)
            parts: tuple[str, ...] = _SEASONAL_CUSUM if offset else _CUSUM
            calm = evidence < config.h
        else:
            evidence = abs(z) if config.two_sided else z
            score = evidence_score(evidence, config.z_half)
            parts = _SEASONAL if offset else _LEVEL
            calm = evidence < config.z_half
        window.push(y - offset)
        if profile is not None:
            # Learn the season from every point, clipped, and from anomalous ones in smaller
            # steps: an incident must not teach the profile that 02:00 is slow, yet a daily
            # peak flagged on its first days must still be learned (learning only from calm
            # points never learned it: measured, the 15:00 peak paged every day).
            profile.learn(t, y, (3.0 if calm else 1.0) * sigma)
        band = config.band * sigma
        return Score(score, self._inverse(expected - band), self._inverse(expected + band), parts)

    # -- state -----------------------------------------------------------------------------

    def state(self) -> State:
        return {
            "detector": self.name,
            "config": asdict(self.config),
            "window": self.window.values(),
            "profile": None if self._profile is None else self._profile.state(),
            "cusum": [self.cusum_up, self.cusum_down],
            "last_t": self.last_t,
            "s0": self._s0,
        }

    @classmethod
    def from_state(cls, state: State) -> Self:
        config = LevelConfig(**state["config"])
        detector = cls(config)
        detector.window = RollingWindow(config.window, (float(v) for v in state["window"]))
        profile = state.get("profile")
        detector._profile = None if profile is None else SeasonalProfile.from_state(profile)
        detector.cusum_up, detector.cusum_down = (float(v) for v in state["cusum"])
        detector.last_t = None if state["last_t"] is None else float(state["last_t"])
        detector._s0 = None if state.get("s0") is None else float(state["s0"])
        return detector


def configured(config: LevelConfig, **changes: Any) -> LevelConfig:
    """A copy of `config` with `changes` (the registry builds its variants with it)."""
    return replace(config, **changes)
