"""Daemon uptime from heartbeats: a pure function of their times and the period.

The daemon stores a heartbeat every health interval. Between two heartbeats at most
`tolerance` (2 intervals) apart it counts as up; a longer silence is a gap, and the whole
gap counts as down (it may have died right after the first one; we cannot tell when). The
stretch from the last heartbeat to the end of the period is judged the same way, as is the
one from the period's start to its first heartbeat when none came before the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

TOLERANCE_INTERVALS = 2.0


@dataclass(frozen=True)
class Gap:
    """A silence longer than the tolerance, clipped to the period."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Coverage:
    start: datetime
    end: datetime
    interval_s: float
    beats: int  # heartbeats inside the period
    up_s: float
    gaps: tuple[Gap, ...]
    longest_gap_s: float  # the longest silence touching the period, unclipped

    @property
    def period_s(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def ratio(self) -> float | None:
        """Share of the period covered; None for an empty period."""
        return self.up_s / self.period_s if self.period_s > 0 else None


def coverage(
    times: Sequence[datetime],
    start: datetime,
    end: datetime,
    interval_s: float,
    *,
    before: datetime | None = None,
    tolerance_intervals: float = TOLERANCE_INTERVALS,
) -> Coverage:
    """How much of [start, end] the heartbeats at `times` cover; `before` is the last
    heartbeat before `start`, if any (it covers the period's first minutes)."""
    limit = tolerance_intervals * interval_s
    inside = sorted(t for t in times if start <= t <= end)
    if not inside and before is None:
        period = max((end - start).total_seconds(), 0.0)
        silent = (Gap(start, end),) if period > 0 else ()
        return Coverage(start, end, interval_s, 0, 0.0, silent, period)
    points = [before if before is not None and before < start else start, *inside, end]
    up = 0.0
    longest = 0.0
    gaps: list[Gap] = []
    for a, b in pairwise(points):
        silence = (b - a).total_seconds()
        clipped = (min(b, end) - max(a, start)).total_seconds()
        if clipped < 0:
            continue
        longest = max(longest, silence)
        if silence > limit:
            gaps.append(Gap(max(a, start), min(b, end)))
        else:
            up += clipped
    return Coverage(start, end, interval_s, len(inside), up, tuple(gaps), longest)
