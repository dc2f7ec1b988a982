"""Scoring the analytics against the corpus' labels: what `wfmon analyze backtest` prints.

Anomaly detection, per labelled window (a fault x a journey it touches, with at least one
run inside it and, for the headline figures, at least one request of those runs that met
the fault; windows nothing reached are counted apart, as `all_windows`):
- detected: an episode of any of that journey's series opens between the window's first
  affected run and two runs after its last (a confirmation may need the next run);
- delay: the opening run's position among the affected runs (1 = the first affected run);
- false alarms: episodes opening outside every window (+ 2 runs) of their journey, after
  the warm-up, per series per day.
Faults are also scored whole (detected by any journey they touch), since that is how an
operator meets them: "was the login outage caught?".

The naive baseline is what a monitor without analytics pages on: every failed run.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wfmon.analytics.anomaly import DEFAULT_THRESHOLD
from wfmon.analytics.baseline import WorkflowBaseline
from wfmon.analytics.corpus.generator import Corpus, FaultWindow
from wfmon.analytics.detectors import DEFAULT_DETECTOR
from wfmon.analytics.runs import RunFacts, points

GRACE_RUNS = 2
DAY_S = 86_400.0


@dataclass(frozen=True)
class Opening:
    """An episode that opened: which journey and series, at which of its runs."""

    workflow: str
    series: str
    run_index: int  # among that journey's runs
    t: float


@dataclass(frozen=True)
class DetectionFigures:
    name: str
    windows: int
    detected: int
    delays: tuple[int, ...]  # in runs, per detected window
    faults: int
    faults_detected: int
    fault_delays: tuple[int, ...]
    false_alarms: int
    series_days: float
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (found, of)
    # Every labelled window, the ones no request met included (the figures above count
    # observable windows only; see FaultWindow.observable).
    all_windows: int = 0
    all_detected: int = 0

    @property
    def all_recall(self) -> float:
        return self.all_detected / self.all_windows if self.all_windows else 0.0

    @property
    def recall(self) -> float:
        return self.detected / self.windows if self.windows else 0.0

    @property
    def fault_recall(self) -> float:
        return self.faults_detected / self.faults if self.faults else 0.0

    @property
    def median_delay(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None

    @property
    def median_fault_delay(self) -> float | None:
        return statistics.median(self.fault_delays) if self.fault_delays else None

    @property
    def false_alarm_rate(self) -> float:
        """False-alarm episodes per series per day."""
        return self.false_alarms / self.series_days if self.series_days else 0.0


Detect = Callable[[RunFacts], list[tuple[str, float]]]  # run -> [(series, t)] opened


def model_detector(
    detector: str = DEFAULT_DETECTOR, threshold: float = DEFAULT_THRESHOLD
) -> Callable[[], Detect]:
    """The product's detection: a WorkflowBaseline per journey."""

    def build() -> Detect:
        baselines: dict[str, WorkflowBaseline] = {}

        def detect(run: RunFacts) -> list[tuple[str, float]]:
            baseline = baselines.get(run.workflow)
            if baseline is None:
                baseline = baselines[run.workflow] = WorkflowBaseline(
                    run.workflow, detector, threshold
                )
            return [
                (c.series, c.episode.started_at)
                for c in baseline.observe(run)
                if c.kind == "opened"
            ]

        return detect

    return build


def naive_detector() -> Callable[[], Detect]:
    """Page on every failed run (the episode lasts while runs keep failing)."""

    def build() -> Detect:
        failing: set[str] = set()

        def detect(run: RunFacts) -> list[tuple[str, float]]:
            if not run.ran:
                return []
            was = run.workflow in failing
            if run.failed:
                failing.add(run.workflow)
                return [] if was else [("success", run.at.timestamp())]
            failing.discard(run.workflow)
            return []

        return detect

    return build


def evaluate_detection(
    corpus: Corpus, build: Callable[[], Detect], name: str = DEFAULT_DETECTOR
) -> DetectionFigures:
    detect = build()
    times: dict[str, list[float]] = defaultdict(list)
    openings: list[Opening] = []
    series_seen: dict[str, set[str]] = defaultdict(set)
    scored_from = corpus.settings.scored_from.timestamp()
    for run in corpus.runs:
        index = len(times[run.workflow])
        t = run.at.timestamp()
        times[run.workflow].append(t)
        if t >= scored_from:
            # first_try is left out of the denominator (a journey without retries has it
            # constant at 1), its false alarms are counted: the rate can only look worse.
            series_seen[run.workflow].update(
                f"{p.step}.{p.metric}" for p in points(run) if p.metric != "first_try"
            )
        for series, at in detect(run):
            openings.append(Opening(run.workflow, series, index, at))
    by_workflow: dict[str, list[Opening]] = defaultdict(list)
    for opening in openings:
        by_workflow[opening.workflow].append(opening)

    covered: dict[str, list[tuple[int, int]]] = defaultdict(list)  # run-index spans
    windows = delays = all_windows = all_detected = 0
    delay_list: list[int] = []
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    fault_best: dict[str, int | None] = {}
    for window in corpus.windows:
        span = _affected(times[window.workflow], window)
        if span is None:
            continue
        first, last = span
        hits = [
            o.run_index
            for o in by_workflow[window.workflow]
            if first <= o.run_index <= last + GRACE_RUNS
        ]
        all_windows += 1
        all_detected += bool(hits)
        if not window.observable:
            # Nothing reached the journey: an episode here is a false alarm, and a miss
            # is no miss (counted in `all_windows` only).
            continue
        covered[window.workflow].append((first, last + GRACE_RUNS))
        windows += 1
        by_kind[window.kind][1] += 1
        fault_best.setdefault(window.fault, None)
        if not hits:
            continue
        delays += 1
        by_kind[window.kind][0] += 1
        delay = min(hits) - first + 1
        delay_list.append(delay)
        best = fault_best[window.fault]
        fault_best[window.fault] = delay if best is None else min(best, delay)

    false_alarms = sum(
        1
        for o in openings
        if o.t >= scored_from and not any(a <= o.run_index <= b for a, b in covered[o.workflow])
    )
    scored_days = (corpus.settings.end.timestamp() - scored_from) / DAY_S
    series_days = sum(len(s) for s in series_seen.values()) * scored_days
    fault_delays = tuple(d for d in fault_best.values() if d is not None)
    return DetectionFigures(
        name=name,
        windows=windows,
        detected=delays,
        delays=tuple(delay_list),
        faults=len(fault_best),
        faults_detected=len(fault_delays),
        fault_delays=fault_delays,
        false_alarms=false_alarms,
        series_days=series_days,
        by_kind={k: (v[0], v[1]) for k, v in sorted(by_kind.items())},
        all_windows=all_windows,
        all_detected=all_detected,
    )


def _affected(times: Sequence[float], window: FaultWindow) -> tuple[int, int] | None:
    """The run-index span of a journey's runs inside the window, or None."""
    first = bisect_left(times, window.start.timestamp())
    end = bisect_left(times, window.end.timestamp())
    return (first, end - 1) if end > first else None
