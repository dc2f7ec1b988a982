"""A seasonal profile: how far each hour of the day usually sits from the series' daily
level, on weekdays and on weekends.

48 buckets (weekday/weekend x hour), each falling back to its hour's all-days bucket until
it has `MIN_VISITS`: a journey run every 4 hours visits a weekend bucket twice a week, so
the hours are learned in a day and the weekend split in a week or two. Additive hour and
weekday parts were tried first and are worse: weekend load changes the height of the daily
peak, not the whole day, and the weekday part then moved the quiet night hours too
(measured on the tuning corpus: false alarms at 23:00-01:00 on weekend nights).

The profile learns against its own slow level (an exponential average of the raw values
with a one-day time constant), never against the detector's rolling median of
deseasonalised values: that median already has the profile subtracted, and learning from it
left the buckets free to random-walk (measured: an hour bucket drifted to -1.5 on the log
scale in three weeks of a 5-minute series, and paged every night at 23:00).

Buckets are UTC: a daily cycle has the same shape in any fixed offset (a DST change shifts
it by an hour twice a year, which the running means absorb within days).
"""

from __future__ import annotations

import math
from array import array
from typing import Any

DAY_S = 86_400.0
HOUR_S = 3_600.0
# 1970-01-01 was a Thursday: shift so that 0 is Monday.
_EPOCH_WEEKDAY = 3
MIN_VISITS = 3


class SeasonalProfile:
    __slots__ = ("first_t", "hour", "hour_n", "last_t", "level", "min_alpha", "week", "week_n")

    def __init__(self, min_alpha: float = 0.05) -> None:
        # C arrays, not lists of objects: one profile per latency series of every workflow.
        self.hour = array("d", [0.0]) * 24
        self.hour_n = array("l", [0]) * 24
        self.week = array("d", [0.0]) * 48  # weekend * 24 + hour
        self.week_n = array("l", [0]) * 48
        self.first_t: float | None = None
        self.last_t: float | None = None
        self.level: float | None = None  # the slow level the buckets are measured from
        # A bucket's first visits are averaged (alpha 1/n), later ones weigh `min_alpha`: fast
        # to learn, then slow to follow, so an incident in one bucket barely moves it.
        self.min_alpha = min_alpha

    def offset(self, t: float) -> float:
        """The expected deviation at `t`; 0 until a whole day has been seen."""
        first = self.first_t
        if first is None or t - first < DAY_S:
            return 0.0
        day = int(t // DAY_S)
        h = int(t // HOUR_S) % 24
        b = (24 if (day + _EPOCH_WEEKDAY) % 7 >= 5 else 0) + h
        if self.week_n[b] >= MIN_VISITS:
            return self.week[b]
        return self.hour[h]

    def learn(self, t: float, y: float, limit: float) -> None:
        """Learn from the (transformed) value `y` at `t`; deviations from the slow level are
        clipped to `limit` so an outlier moves a bucket by a bounded step."""
        level = self.level
        if level is None or self.first_t is None or self.last_t is None:
            self.first_t = self.last_t = t
            self.level = y
            return
        dt = t - self.last_t
        self.last_t = t
        r = y - level
        r = -limit if r < -limit else limit if r > limit else r
        # The slow level: a one-day time constant, but a plain average over the first day
        # (its start would otherwise weigh for days).
        a = 1.0 - math.exp(-dt / DAY_S) if dt > 0 else 0.0
        span = t - self.first_t
        if 0 < span < DAY_S:
            a = max(a, dt / span)
        self.level = level + a * r
        day = int(t // DAY_S)
        h = int(t // HOUR_S) % 24
        n = self.hour_n[h] = self.hour_n[h] + 1
        self.hour[h] += max(1.0 / n, self.min_alpha) * (r - self.hour[h])
        b = (24 if (day + _EPOCH_WEEKDAY) % 7 >= 5 else 0) + h
        n = self.week_n[b] = self.week_n[b] + 1
        self.week[b] += max(1.0 / n, self.min_alpha) * (r - self.week[b])

    def state(self) -> dict[str, Any]:
        return {
            "hour": self.hour.tolist(),
            "hour_n": self.hour_n.tolist(),
            "week": self.week.tolist(),
            "week_n": self.week_n.tolist(),
            "first_t": self.first_t,
            "last_t": self.last_t,
            "level": self.level,
            "min_alpha": self.min_alpha,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SeasonalProfile:
        profile = cls(float(state["min_alpha"]))
        profile.hour = array("d", (float(v) for v in state["hour"]))
        profile.hour_n = array("l", (int(v) for v in state["hour_n"]))
        profile.week = array("d", (float(v) for v in state["week"]))
        profile.week_n = array("l", (int(v) for v in state["week_n"]))
        for name in ("first_t", "last_t", "level"):
            value = state[name]
            setattr(profile, name, None if value is None else float(value))
        return profile
