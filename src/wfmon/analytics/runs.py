"""What analytics needs of an execution, and the series points one execution yields.

`RunFacts` is built from a live `ExecutionResult` (the bus) or from stored rows (warm-up,
history, the CLI), so every analysis sees the same shape either way; the corpus generator
produces it directly.

Series per workflow: its `duration`, `success` and `first_try` (1 when a successful run
passed at its first attempt, 0 when it needed a retry: a journey whose retries start saving
it is failing underneath, and its success series cannot see that); per step: `duration`
(total_ms), `ttfb` and `success`. Latency points come from successful runs and steps
only: a failed step's time measures the failure (a 503 answers in 1 ms), and failures are
the success series' business. Skipped steps yield nothing (a gap, not a zero).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from wfmon.domain.run import ExecutionResult, ExecutionStatus, StepStatus

METRICS = ("duration", "success", "ttfb", "first_try")
# Series scored as failure counts (1 ok / 0 not), not as latencies.
RATE_METRICS = frozenset({"success", "first_try"})
WORKFLOW_STEP = ""  # the step name of a workflow-level series

# Outcomes of the target; `missed` and `cancelled` are about the monitor and are ignored.
FAILED_RUN = frozenset(
    {
        ExecutionStatus.FAILED.value,
        ExecutionStatus.ERROR.value,
        ExecutionStatus.TIMEOUT.value,
        ExecutionStatus.ABORTED.value,
    }
)
RAN = FAILED_RUN | {ExecutionStatus.SUCCEEDED.value}


@dataclass(frozen=True)
class StepFacts:
    name: str
    status: str
    total_ms: float
    ttfb_ms: float | None = None
    error: str | None = None
    method: str | None = None
    url: str | None = None
    response_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == StepStatus.SUCCEEDED.value

    @property
    def ran(self) -> bool:
        return self.status != StepStatus.SKIPPED.value


@dataclass(frozen=True)
class RunFacts:
    workflow: str
    at: datetime  # when it started
    status: str
    duration_ms: float | None
    error: str | None = None
    steps: tuple[StepFacts, ...] = ()
    attempts: int = 1  # the attempt that produced this result (retries + 1)

    @property
    def ok(self) -> bool:
        return self.status == ExecutionStatus.SUCCEEDED.value

    @property
    def failed(self) -> bool:
        return self.status in FAILED_RUN

    @property
    def ran(self) -> bool:
        return self.status in RAN

    @property
    def failed_step(self) -> StepFacts | None:
        return next((s for s in self.steps if s.ran and not s.ok), None)

    @classmethod
    def from_result(cls, result: ExecutionResult) -> RunFacts:
        steps = tuple(
            StepFacts(
                name=s.name,
                status=s.status.value,
                total_ms=s.timings.total_ms,
                ttfb_ms=s.timings.ttfb_ms,
                error=s.reason,
                method=_text(s.request.get("method")),
                url=_text(s.request.get("url")),
                response_status=s.response_status,
            )
            for s in result.steps
        )
        return cls(
            workflow=result.workflow,
            at=result.started_at,
            status=result.status.value,
            duration_ms=result.duration_ms,
            error=result.reason,
            steps=steps,
            attempts=result.attempts,
        )


class Point(NamedTuple):
    step: str  # WORKFLOW_STEP for the workflow itself
    metric: str
    value: float


def points(run: RunFacts) -> Iterator[Point]:
    """The series points one execution yields (none for missed or cancelled runs)."""
    if not run.ran:
        return
    yield Point(WORKFLOW_STEP, "success", 1.0 if run.ok else 0.0)
    if run.ok:
        yield Point(WORKFLOW_STEP, "first_try", 1.0 if run.attempts <= 1 else 0.0)
        if run.duration_ms is not None:
            yield Point(WORKFLOW_STEP, "duration", run.duration_ms)
    for step in run.steps:
        if not step.ran:
            continue
        yield Point(step.name, "success", 1.0 if step.ok else 0.0)
        if step.ok:
            yield Point(step.name, "duration", step.total_ms)
            if step.ttfb_ms is not None:
                yield Point(step.name, "ttfb", step.ttfb_ms)


def series_id(step: str, metric: str) -> str:
    """A series' key within its workflow: 'duration' for the workflow, 'login.ttfb'."""
    return f"{step}.{metric}" if step else metric


def split_series_id(series: str) -> tuple[str, str]:
    """(step, metric) back from `series_id` (step names may contain dots)."""
    step, _, metric = series.rpartition(".")
    return step, metric


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
