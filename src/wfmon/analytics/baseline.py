"""The learned normal of one workflow: a detector and an episode per series, updated
incrementally as each execution is recorded.

`observe(run)` costs one detector update per series point (a few µs each: the 1 ms budget
per execution covers the largest demo journey, 26 series, many times over) and returns the
episodes that opened or closed on this run. `state()` / `from_state()` round-trip through
JSON, so the Analyzer resumes after a restart as if it had never stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from wfmon.analytics.anomaly import DEFAULT_THRESHOLD, Episode, advance, describe, format_ms
from wfmon.analytics.detectors import (
    DEFAULT_DETECTOR,
    Detector,
    FailureRateDetector,
    LevelDetector,
    Score,
    evidence_score,
    from_state,
    make_detector,
)
from wfmon.analytics.runs import RunFacts, points, series_id, split_series_id

STATE_VERSION = 1
# Corroboration across a run's steps (see `corroboration`); chosen on the tuning seeds.
JOINT_Z = 2.5
JOINT_SHARE = 0.75
JOINT_CLIP = 4.0
JOINT_K = 1.0
JOINT_HALF = 5.0


@dataclass(frozen=True)
class Change:
    """An episode that opened or closed on one run."""

    kind: Literal["opened", "closed"]
    workflow: str
    step: str  # "" for the workflow itself
    metric: str
    episode: Episode
    reason: str

    @property
    def series(self) -> str:
        return series_id(self.step, self.metric)


@dataclass
class _Series:
    detector: Detector
    episode: Episode | None = None
    last_score: float = 0.0


@dataclass
class WorkflowBaseline:
    workflow: str
    detector: str = DEFAULT_DETECTOR
    threshold: float = DEFAULT_THRESHOLD
    series: dict[str, _Series] = field(default_factory=dict)
    last_at: float | None = None  # the last run observed (epoch seconds)

    def observe(self, run: RunFacts) -> list[Change]:
        """Score and learn one run's points; the episodes that opened or closed."""
        t = run.at.timestamp()
        self.last_at = t
        scored: list[tuple[str, str, float, _Series, Score]] = []
        workflow_duration = -1
        for step, metric, value in points(run):
            key = series_id(step, metric)
            entry = self.series.get(key)
            if entry is None:
                entry = self.series[key] = _Series(make_detector(self.detector, metric))
            if not step and metric == "duration":
                workflow_duration = len(scored)
            scored.append((step, metric, value, entry, entry.detector.update(t, value)))
        joint = ""
        if workflow_duration >= 0:
            joint_score, together, of = corroboration(scored)
            step, metric, value, entry, own = scored[workflow_duration]
            if joint_score > own.score:
                scored[workflow_duration] = (
                    step,
                    metric,
                    value,
                    entry,
                    own._replace(score=joint_score),
                )
                joint = f" ({together} of {of} steps slower together)"
        changes: list[Change] = []
        threshold = self.threshold
        for step, metric, value, entry, verdict in scored:
            score, low, high = verdict.score, verdict.low, verdict.high
            entry.last_score = score
            before = entry.episode
            if before is None and score < threshold:
                continue  # the common case: calm and staying calm
            after = advance(before, t, score, value, low, high, threshold)
            entry.episode = after if after is not None and after.is_open else None
            if after is None or after is before:
                continue
            if before is None or not before.is_open:
                text = self._value_text(entry.detector, metric, value)
                reason = describe(self.workflow, step, metric, text, low, high, t)
                if not step and metric == "duration":
                    reason += joint
                changes.append(Change("opened", self.workflow, step, metric, after, reason))
            elif not after.is_open:
                text = self._value_text(entry.detector, metric, after.value)
                reason = describe(
                    self.workflow, step, metric, text, after.low, after.high, after.started_at
                )
                changes.append(Change("closed", self.workflow, step, metric, after, reason))
        return changes

    def open_episodes(self) -> dict[str, Episode]:
        return {k: s.episode for k, s in self.series.items() if s.episode is not None}

    def scores(self) -> dict[str, float]:
        """Each series' latest score (the failure predictor reads them)."""
        return {k: s.last_score for k, s in self.series.items()}

    @staticmethod
    def _value_text(detector: Detector, metric: str, value: float) -> str:
        if isinstance(detector, FailureRateDetector):
            failed, of = detector.recent_failures()
            if metric == "first_try":
                return f"{failed} of the last {of} passing runs needed a retry"
            return f"{failed} of the last {of} runs failed"
        return format_ms(value)

    # -- state -----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "workflow": self.workflow,
            "detector": self.detector,
            "threshold": self.threshold,
            "last_at": self.last_at,
            "series": {
                key: {
                    "detector": s.detector.state(),
                    "episode": None if s.episode is None else asdict(s.episode),
                    "last_score": s.last_score,
                }
                for key, s in self.series.items()
            },
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> WorkflowBaseline:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unknown baseline state version {state.get('version')!r}")
        baseline = cls(
            workflow=str(state["workflow"]),
            detector=str(state["detector"]),
            threshold=float(state["threshold"]),
            last_at=None if state["last_at"] is None else float(state["last_at"]),
        )
        for key, saved in state["series"].items():
            episode = saved["episode"]
            baseline.series[key] = _Series(
                from_state(saved["detector"]),
                None if episode is None else Episode(**episode),
                float(saved["last_score"]),
            )
        return baseline


def corroboration(
    scored: Sequence[tuple[str, str, float, _Series, Score]],
) -> tuple[float, int, int]:
    """(score, steps slower, steps) of one run's steps being slower together.

    A stalled request (a GC pause, a slow query) slows one step; a bad deploy, a saturated
    host or a degrading database slows every step of the run at once. Steps' noise is
    independent, so `JOINT_SHARE` of a run's steps each at least `JOINT_Z` robust scales
    above their expected value is evidence on its own, without waiting for the next run: it
    is summed like the CUSUM sums runs (each step adds min(z, 4) - 1), so two steps at
    z >= 3.5 weigh what two runs at z >= 3.5 do. Only the workflow's duration series gets
    this score (one episode per run, not one per step)."""
    zs = [
        entry.detector.last_z
        for step, metric, _value, entry, _score in scored
        if step
        and metric == "duration"
        and isinstance(entry.detector, LevelDetector)
        and entry.detector.warmed_up
    ]
    of = len(zs)
    if of < 2:
        return 0.0, 0, of
    together = [z for z in zs if z >= JOINT_Z]
    if len(together) < 2 or len(together) < JOINT_SHARE * of:
        return 0.0, len(together), of
    evidence = sum(min(z, JOINT_CLIP) - JOINT_K for z in together)
    return evidence_score(evidence, JOINT_HALF), len(together), of


def series_parts(key: str) -> tuple[str, str]:
    """(step, metric) of a series key."""
    return split_series_id(key)
