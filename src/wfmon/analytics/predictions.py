"""Live failure predictions: for each workflow, the probability that at least one of its
next `HORIZON` runs fails, from its recent runs, with the reason in words.

The rule is the shipped predictor of `predict.py` (it beat the naive baseline and the
logistic model on the corpus): a failure is expected after a failure, or when the slowest
step already used `LIMIT_RATIO` of its duration limit. The probability is how often a
failure did follow, per rule outcome, on this workflow's own recent history
(`CellRates`, Laplace-smoothed): "at risk, 64 %" means that on the runs looked at, 64 % of
the times the rule fired a failure came within the next three runs.

Pure: `predict(runs, limits, now)` over stored `RunFacts`, so the API, the CLI and a
separate `wfmon serve` process all compute the same answer from the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wfmon.analytics.anomaly import format_ms
from wfmon.analytics.predict import HORIZON, LIMIT_RATIO, CellRates, FeatureTracker, heuristic
from wfmon.analytics.runs import RunFacts
from wfmon.config.base import parse_duration

Limits = Mapping[tuple[str, str], float]  # (workflow, step) -> max_duration in ms


@dataclass(frozen=True)
class Prediction:
    workflow: str
    probability: float  # one of the next HORIZON runs fails
    at_risk: bool  # the rule fires on the latest run
    reason: str
    runs: int  # runs of history it was counted on
    last_run_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "probability": round(self.probability, 4),
            "at_risk": self.at_risk,
            "horizon_runs": HORIZON,
            "reason": self.reason,
            "runs": self.runs,
            "last_run_at": self.last_run_at.isoformat(),
        }


def step_limits(
    definitions: Iterable[tuple[str, Mapping[str, Any]]],
) -> dict[tuple[str, str], float]:
    """(workflow, step) -> the step's `expect.max_duration` in ms, from stored definitions."""
    limits: dict[tuple[str, str], float] = {}
    for name, definition in definitions:
        for step in definition.get("steps", []) or []:
            if not isinstance(step, dict):
                continue
            limit = (step.get("expect") or {}).get("max_duration")
            if limit is None:
                continue
            try:
                limits[(name, str(step.get("name")))] = parse_duration(limit) * 1000.0
            except (TypeError, ValueError):
                continue  # validated on load; an old definition may not parse: no limit
    return limits


def predict(runs: Sequence[RunFacts], limits: Limits) -> list[Prediction]:
    """One prediction per workflow with at least one run that ran, most at risk first."""
    by_workflow: dict[str, list[RunFacts]] = defaultdict(list)
    for run in runs:
        if run.ran:
            by_workflow[run.workflow].append(run)
    out = [_one(name, ordered, limits) for name, ordered in by_workflow.items()]
    return sorted(out, key=lambda p: (-p.at_risk, -p.probability, p.workflow))


def _one(workflow: str, runs: Sequence[RunFacts], limits: Limits) -> Prediction:
    tracker = FeatureTracker({s: ms for (w, s), ms in limits.items() if w == workflow})
    rows = [tracker.row(run, 0.0) for run in runs]
    failed = [run.failed for run in runs]
    rates = CellRates()
    for i in range(len(rows) - HORIZON):
        rates.add(rows[i], any(failed[i + 1 : i + 1 + HORIZON]))
    last_row, last = rows[-1], runs[-1]
    return Prediction(
        workflow=workflow,
        probability=rates.probability(last_row),
        at_risk=heuristic(last_row),
        reason=_reason(last, last_row, limits),
        runs=len(runs),
        last_run_at=last.at,
    )


def _reason(run: RunFacts, row: Sequence[float], limits: Limits) -> str:
    if row[0] >= 0.5:
        step = run.failed_step
        where = f" at step {step.name}" if step is not None else ""
        return f"the last run failed{where}; failures tend to come in runs"
    closest: tuple[float, str, float, float] | None = None
    for step in run.steps:
        limit = limits.get((run.workflow, step.name))
        if limit and step.ok:
            ratio = step.total_ms / limit
            if closest is None or ratio > closest[0]:
                closest = (ratio, step.name, step.total_ms, limit)
    if closest is not None and closest[0] >= LIMIT_RATIO:
        ratio, name, took, limit = closest
        return f"step {name} took {format_ms(took)}, {ratio:.0%} of its {format_ms(limit)} limit"
    return "the last run passed within its limits"
