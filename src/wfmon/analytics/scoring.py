"""Backtest scoring of incident grouping and failure prediction on a corpus.

Grouping: pairwise F1 over the failed runs: two failures caused by one fault should share
an incident, failures of different faults (or background noise) should not. The naive
baseline groups by workflow: consecutive failures of one journey within the gap are one
incident (what per-workflow alerting shows).

Prediction: rolling origin by day, no lookahead: the model predicting day D is fitted on
the runs whose labels (the next runs) were all known before D started.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from wfmon.analytics.baseline import WorkflowBaseline
from wfmon.analytics.corpus.generator import Corpus
from wfmon.analytics.incidents import DEFAULT_GAP_S, IncidentTracker
from wfmon.analytics.predict import HORIZON, FeatureTracker, f1_score, fit, heuristic, labels
from wfmon.analytics.runs import RATE_METRICS, split_series_id
from wfmon.analytics.signatures import failure_of

DAY_S = 86_400.0


@dataclass(frozen=True)
class GroupingFigures:
    failures: int
    f1: float
    f1_naive: float
    incidents: int
    faults: int


def _pairwise_f1(truth: Sequence[str], found: Sequence[str]) -> float:
    tp = fp = fn = 0
    for i, j in combinations(range(len(truth)), 2):
        same_truth = truth[i] == truth[j]
        same_found = found[i] == found[j]
        tp += int(same_truth and same_found)
        fp += int(same_found and not same_truth)
        fn += int(same_truth and not same_found)
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def score_grouping(corpus: Corpus, gap_s: float = DEFAULT_GAP_S) -> GroupingFigures:
    tracker = IncidentTracker(gap_s)
    truth: list[str] = []
    found: list[str] = []
    naive: list[str] = []
    last_fail: dict[str, tuple[float, str]] = {}
    scored_from = corpus.settings.scored_from
    for index, (run, cause) in enumerate(zip(corpus.runs, corpus.causes, strict=True)):
        failure = failure_of(run)
        if failure is None:
            continue
        incident = tracker.observe(failure)
        t = run.at.timestamp()
        previous = last_fail.get(run.workflow)
        group = previous[1] if previous and t - previous[0] <= gap_s else f"{run.workflow}@{t}"
        last_fail[run.workflow] = (t, group)
        if run.at < scored_from:
            continue
        truth.append(cause or f"noise-{index}")
        found.append(incident.key)
        naive.append(group)
    faults = {c for c in truth if not c.startswith("noise-")}
    return GroupingFigures(
        len(truth),
        _pairwise_f1(truth, found),
        _pairwise_f1(truth, naive),
        len(set(found)),
        len(faults),
    )


@dataclass(frozen=True)
class PredictionFigures:
    runs: int
    precision: float
    recall: float
    f1: float
    precision_naive: float
    recall_naive: float
    f1_naive: float
    f1_logistic: float  # the fitted model that lost on the tuning seeds, for the record
    first_failures: int  # failures after a calm spell, caused by a fault
    foreseen: int  # of those, predicted by an earlier run
    lead_minutes: float | None  # median lead time of the foreseen ones

    @property
    def beats_naive(self) -> bool:
        return self.f1 > self.f1_naive


def _features(
    corpus: Corpus,
) -> dict[str, tuple[list[list[float]], list[float], list[bool], list[bool]]]:
    """Per workflow: feature rows, run times, failed flags, caused-by-a-fault flags."""
    out: dict[str, tuple[list[list[float]], list[float], list[bool], list[bool]]] = {}
    baselines: dict[str, WorkflowBaseline] = {}
    trackers: dict[str, FeatureTracker] = {}
    for run, cause in zip(corpus.runs, corpus.causes, strict=True):
        if not run.ran:
            continue
        w = run.workflow
        baseline = baselines.setdefault(w, WorkflowBaseline(w))
        limits = {step: ms for (wf, step), ms in corpus.max_ms.items() if wf == w}
        tracker = trackers.setdefault(w, FeatureTracker(limits))
        baseline.observe(run)
        scores = baseline.scores()
        anomaly = max(
            (v for k, v in scores.items() if split_series_id(k)[1] not in RATE_METRICS),
            default=0.0,
        )
        rows, times, failed, caused = out.setdefault(w, ([], [], [], []))
        rows.append(tracker.row(run, anomaly))
        times.append(run.at.timestamp())
        failed.append(run.failed)
        caused.append(cause is not None)
    return out


def score_prediction(corpus: Corpus, min_train_days: float = 3.0) -> PredictionFigures:
    per_workflow = _features(corpus)
    all_rows: list[list[float]] = []
    all_y: list[bool | None] = []
    all_t: list[float] = []
    known_at: list[float] = []
    all_failed: list[bool] = []
    first: list[tuple[int, bool]] = []  # (row index, caused) of failures after a calm spell
    for rows, times, failed, caused in per_workflow.values():
        base = len(all_rows)
        ys = labels(failed)
        for i in range(len(rows)):
            all_rows.append(rows[i])
            all_y.append(ys[i])
            all_t.append(times[i])
            known_at.append(times[i + HORIZON] if i + HORIZON < len(times) else float("inf"))
            all_failed.append(failed[i])
            if failed[i] and i >= 3 and not any(failed[i - 3 : i]):
                first.append((base + i, caused[i]))
    x = np.asarray(all_rows)
    t = np.asarray(all_t)
    known = np.asarray(known_at)
    y = np.asarray([bool(v) for v in all_y])
    has_label = np.asarray([v is not None for v in all_y])
    failed_now = np.asarray(all_failed)
    start = corpus.settings.scored_from.timestamp() + min_train_days * DAY_S
    end = corpus.settings.end.timestamp()
    logistic = np.zeros(len(y), dtype=bool)
    tested = np.zeros(len(y), dtype=bool)
    origin = start
    while origin < end:
        train = (known < origin) & has_label
        test = (t >= origin) & (t < origin + DAY_S)
        model = fit(x[train], y[train])
        if model is not None:
            for k in np.flatnonzero(test):
                logistic[k] = model.predict(x[k])
        tested |= test
        origin += DAY_S
    mask = tested & has_label
    naive = failed_now
    predicted = np.asarray([heuristic(row) for row in x], dtype=bool) if len(x) else logistic
    foreseen: list[float] = []
    eligible = 0
    # Rows of one workflow are contiguous and in time order: look back by index.
    for row, by_fault in first:
        if not by_fault or not tested[row]:
            continue
        eligible += 1
        leads = [t[row] - t[j] for j in range(row - HORIZON, row) if predicted[j]]
        if leads:
            foreseen.append(max(leads) / 60.0)
    return PredictionFigures(
        runs=int(mask.sum()),
        precision=_precision(predicted[mask], y[mask]),
        recall=_recall(predicted[mask], y[mask]),
        f1=f1_score(predicted[mask], y[mask]),
        precision_naive=_precision(naive[mask], y[mask]),
        recall_naive=_recall(naive[mask], y[mask]),
        f1_naive=f1_score(naive[mask], y[mask]),
        f1_logistic=f1_score(logistic[mask], y[mask]),
        first_failures=eligible,
        foreseen=len(foreseen),
        lead_minutes=float(statistics.median(foreseen)) if foreseen else None,
    )


def _precision(predicted: np.ndarray, actual: np.ndarray) -> float:
    n = int(predicted.sum())
    return float((predicted & actual).sum()) / n if n else 0.0


def _recall(predicted: np.ndarray, actual: np.ndarray) -> float:
    n = int(actual.sum())
    return float((predicted & actual).sum()) / n if n else 0.0


def per_workflow_counts(corpus: Corpus) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for run in corpus.runs:
        counts[run.workflow] += 1
    return dict(counts)
