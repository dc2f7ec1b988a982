"""From scores to anomalies: the decision threshold, sensitivity, and episodes.

A detector scores every point in [0, 1]; a point at or above the threshold is anomalous.
What people see (and what pages them) is an **episode**: it opens on the first anomalous
point and closes after `CLOSE_AFTER` points in a row below `CLOSE_RATIO` x threshold, so a
sustained excursion is one anomaly with a start, a peak and an end, not one per point, and
a score hovering at the threshold does not flap open and shut.

The shipped threshold is 0.5 (sensitivity 0.5): for the default detector that is a CUSUM
evidence of 5 robust standard deviations beyond the allowance, for success rates a recent
failure count with probability 1e-4 under the learned failure rate. Chosen on the tuning
corpus (seed 1) and reported on others: see docs/analytics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

DEFAULT_SENSITIVITY = 0.5
DEFAULT_THRESHOLD = 0.5
CLOSE_AFTER = 3  # calm points in a row that end an episode
CLOSE_RATIO = 0.8  # calm means below this fraction of the threshold


def threshold_for(sensitivity: float = DEFAULT_SENSITIVITY) -> float:
    """The score threshold of a sensitivity in (0, 1): higher sensitivity, lower threshold.

    threshold = 1 - sensitivity, kept within [0.05, 0.95] so neither end is absurd."""
    if not 0.0 < sensitivity < 1.0:
        raise ValueError("sensitivity is a number between 0 and 1 (default 0.5)")
    return min(0.95, max(0.05, 1.0 - sensitivity))


@dataclass(frozen=True)
class Episode:
    """An open or closed anomaly episode of one series (epoch seconds)."""

    started_at: float
    peak: float
    value: float  # the value that opened it
    low: float  # the expected range when it opened
    high: float
    calm: int = 0
    ended_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


def advance(
    episode: Episode | None,
    t: float,
    score: float,
    value: float,
    low: float,
    high: float,
    threshold: float = DEFAULT_THRESHOLD,
) -> Episode | None:
    """The series' episode after a point: None while calm, an open episode while anomalous,
    a closed one (`ended_at` set) on the point that ends it. Pure."""
    if episode is None or not episode.is_open:
        if score >= threshold:
            return Episode(t, score, value, low, high)
        return None
    if score >= CLOSE_RATIO * threshold:
        if score > episode.peak or episode.calm:
            return Episode(episode.started_at, max(score, episode.peak), *_opened(episode))
        return episode
    calm = episode.calm + 1
    if calm >= CLOSE_AFTER:
        return Episode(episode.started_at, episode.peak, *_opened(episode), calm, t)
    return Episode(episode.started_at, episode.peak, *_opened(episode), calm)


def _opened(episode: Episode) -> tuple[float, float, float]:
    return episode.value, episode.low, episode.high


# -- words --------------------------------------------------------------------------------


def format_ms(value: float) -> str:
    """412 ms, 2.4 s, 12 s: two significant figures are what a person reads."""
    if value < 1.0:
        return f"{value:.2f} ms"
    if value < 1000.0:
        return f"{value:.0f} ms"
    seconds = value / 1000.0
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def format_range_ms(low: float, high: float) -> str:
    """'0.3-0.6 s' or '40-95 ms': one unit for both ends."""
    if high >= 1000.0:
        return f"{low / 1000.0:.1f}-{high / 1000.0:.1f} s"
    if high < 1.0:
        return f"{low:.2f}-{high:.2f} ms"
    return f"{low:.0f}-{high:.0f} ms"


def subject(workflow: str, step: str) -> str:
    return f"step {step} of {workflow}" if step else f"workflow {workflow}"


def describe(
    workflow: str,
    step: str,
    metric: str,
    value_text: str,
    low: float,
    high: float,
    since: float,
) -> str:
    """One line: 'step checkout of order-placement duration 2.4 s vs expected 0.3-0.6 s
    since 05:02'."""
    when = datetime.fromtimestamp(since, UTC).strftime("%H:%M")
    if metric == "first_try":
        expected = f"expected at least {low:.0%} first time"
        return f"{subject(workflow, step)}: {value_text} ({expected}) since {when} UTC"
    if metric == "success":
        expected = f"expected at least {low:.0%} success"
        return f"{subject(workflow, step)}: {value_text} ({expected}) since {when} UTC"
    return (
        f"{subject(workflow, step)} {metric} {value_text} vs expected "
        f"{format_range_ms(low, high)} since {when} UTC"
    )
