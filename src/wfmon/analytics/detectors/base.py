"""What every streaming detector returns, and the few helpers they share.

A detector sees one series point by point, `update(t, x)`, and scores the point from the
points before it only (it learns from the point after scoring it). Its state is a plain
JSON document, so the Analyzer can persist it and resume after a restart exactly where it
left off.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple, Protocol, Self

State = dict[str, Any]


class Score(NamedTuple):
    """One point's verdict.

    A NamedTuple rather than a frozen dataclass: one is built per point, and at 50,000
    points a second the dataclass' `object.__setattr__` per field was a third of the budget.
    """

    score: float  # in [0, 1]; the decision threshold is applied by `anomaly.py`
    low: float  # the expected range of the value, in the series' own units
    high: float
    reason_parts: tuple[str, ...] = ()  # which components fired, for the reason text


class Detector(Protocol):
    """A streaming, causal scorer of one series."""

    name: ClassVar[str]

    def update(self, t: float, x: float) -> Score:
        """Score `x` at `t` (epoch seconds, non-decreasing) against what came before,
        then learn from it."""
        ...

    def state(self) -> State:
        """Everything needed to resume, as JSON-compatible data."""
        ...

    @classmethod
    def from_state(cls, state: State) -> Self:
        """A detector that continues from `state` as if it had never stopped."""
        ...


def evidence_score(evidence: float, half: float) -> float:
    """Map evidence (>= 0, unbounded) to [0, 1): `half` maps to 0.5, the shipped threshold.

    A ratio rather than a logistic: it keeps ranking points however strong the evidence
    (a saturating curve gives every outage a score of 1.0 and loses their order)."""
    if evidence <= 0.0:
        return 0.0
    return evidence / (evidence + half)


def binomial_tail(n: int, k: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p); exact sum, fine for the small windows used here."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    p = min(max(p, 1e-12), 1.0 - 1e-12)
    q = 1.0 - p
    term = math.comb(n, k) * p**k * q ** (n - k)
    total = term
    for i in range(k, n):
        term *= (n - i) / (i + 1) * p / q
        total += term
    return min(1.0, total)
