"""Success-rate series: is the recent failure count surprising for this workflow?

Each point is 1 (the run or step succeeded) or 0 (it failed). The baseline failure rate
`p0` is a long, exponentially decayed count with a weak prior (2 % until there is
history); the evidence is how unlikely this run's failure is together with the other
failures among the last `recent` runs under `p0` (binomial), as -log10 of that probability,
and 2 (p = 0.01) scores 0.5.

So a journey that has run about a hundred times without failing opens an episode on its
first failure (p0 < 1 %): for such a journey a failure is news, and waiting for a second
would miss every short outage of the journeys that run every few hours. Once the journey
has passed `RECOVERED_AFTER` runs in a row, the failures before them stop counting as
evidence (the window still remembers them for the rate): the episode ends a few runs after
the recovery, like the alert's own recovery, instead of a day later when a 2-hourly
journey's failure finally leaves the window. A flaky journey
that fails 2 % of the time needs three failures within ten runs, because for it one or two
are ordinary. Background failures of steady journeys do page; the corpus measures what that
costs (docs/analytics.md).
"""

from __future__ import annotations

import math
from collections import deque
from typing import ClassVar, Self

from wfmon.analytics.detectors.base import Score, State, binomial_tail, evidence_score

_WARMING = ("warming up",)
_FAILURES = ("failures",)
_OK = ("ok",)
SURPRISED_WEIGHT = 0.2
RECOVERED_AFTER = 2  # successes in a row that end the evidence of the failures before them


class FailureRateDetector:
    name: ClassVar[str] = "failures"

    __slots__ = ("decay", "fails", "half", "prior_fails", "prior_runs", "recent", "runs", "window")

    def __init__(
        self,
        recent: int = 10,
        half_life_runs: float = 2000.0,
        prior_fails: float = 1.0,
        prior_runs: float = 50.0,
        half: float = 2.0,
    ) -> None:
        self.recent = recent
        self.decay = 0.5 ** (1.0 / half_life_runs)
        self.prior_fails = prior_fails
        self.prior_runs = prior_runs
        self.half = half  # -log10(p) that scores 0.5: p = 0.01
        self.fails = 0.0
        self.runs = 0.0
        self.window: deque[bool] = deque(maxlen=recent)

    @property
    def baseline_rate(self) -> float:
        return (self.fails + self.prior_fails) / (self.runs + self.prior_runs)

    def update(self, t: float, x: float) -> Score:
        failed = x < 0.5
        window = self.window
        window.append(failed)
        p0 = self.baseline_rate
        k = sum(window)
        n = len(window)
        if k == 0 or (not failed and self._streak() >= RECOVERED_AFTER):
            score = 0.0
            parts = _OK
        else:
            # A failed run is scored as "this run failed, and k-1 of the runs before it":
            # its own probability, not that of some run in the window failing (10x more
            # likely), else a journey would need two failures before its first counted.
            # A success scores the window as it stands, so an episode fades as it empties.
            tail = p0 * binomial_tail(n - 1, k - 1, p0) if failed else binomial_tail(n, k, p0)
            score = evidence_score(-math.log10(max(tail, 1e-300)), self.half)
            parts = _FAILURES
        # Learn after scoring. A surprising failure counts a fifth: an outage's hundred
        # failures must not teach a steady journey that failing is normal (the next outage
        # would go unseen), yet a journey that really became flaky is learned in time, as
        # clipped residuals are for latency.
        weight = (SURPRISED_WEIGHT if score >= 0.5 else 1.0) if failed else 0.0
        self.fails = self.fails * self.decay + weight
        self.runs = self.runs * self.decay + 1.0
        # Expected success ratio over the recent window: down to 3 standard deviations of
        # the failure count below its mean.
        mean = n * p0
        worst = mean + 3.0 * math.sqrt(n * p0 * (1.0 - p0))
        low = max(0.0, 1.0 - worst / max(n, 1))
        return Score(score, low, 1.0, parts)

    def _streak(self) -> int:
        """Successes in a row at the end of the window, this point included."""
        streak = 0
        for failed in reversed(self.window):
            if failed:
                break
            streak += 1
        return streak

    def recent_failures(self) -> tuple[int, int]:
        """(failed, of) among the recent runs, this point included."""
        return sum(self.window), len(self.window)

    def state(self) -> State:
        return {
            "detector": self.name,
            "recent": self.recent,
            "decay": self.decay,
            "prior_fails": self.prior_fails,
            "prior_runs": self.prior_runs,
            "half": self.half,
            "fails": self.fails,
            "runs": self.runs,
            "window": [int(v) for v in self.window],
        }

    @classmethod
    def from_state(cls, state: State) -> Self:
        detector = cls(
            int(state["recent"]),
            prior_fails=float(state["prior_fails"]),
            prior_runs=float(state["prior_runs"]),
            half=float(state["half"]),
        )
        detector.decay = float(state["decay"])
        detector.fails = float(state["fails"])
        detector.runs = float(state["runs"])
        detector.window.extend(bool(v) for v in state["window"])
        return detector
