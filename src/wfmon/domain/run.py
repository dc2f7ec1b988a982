"""What a run produces: executions and step results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ExecutionStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # an assertion did not hold
    ERROR = "error"  # connection, DNS, TLS, a step that raised
    TIMEOUT = "timeout"
    ABORTED = "aborted"  # left running by a daemon that died
    CANCELLED = "cancelled"  # stopped on shutdown
    MISSED = "missed"  # a slot that was never run

    @property
    def is_final(self) -> bool:
        return self is not ExecutionStatus.RUNNING

    @property
    def is_ok(self) -> bool:
        return self is ExecutionStatus.SUCCEEDED


class StepStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"  # an earlier step failed and this one is not always_run


# How a step's outcome ranks when several go wrong: the first non-success decides the
# execution's status, but a timeout of the whole workflow wins over everything.
STEP_TO_EXECUTION = {
    StepStatus.SUCCEEDED: ExecutionStatus.SUCCEEDED,
    StepStatus.FAILED: ExecutionStatus.FAILED,
    StepStatus.ERROR: ExecutionStatus.ERROR,
    StepStatus.TIMEOUT: ExecutionStatus.TIMEOUT,
}


@dataclass(frozen=True)
class Timings:
    """Per-step phases in milliseconds; None where a phase did not happen (reused conn)."""

    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    total_ms: float = 0.0


@dataclass(frozen=True)
class AssertionResult:
    """One `expect:` check: what was expected, what came back, and whether it held."""

    check: str  # e.g. "status", "json $.token", "header Content-Type", "latency"
    operator: str  # "==", "in", "<=", "exists", "matches", "schema", ...
    expected: Any
    actual: Any
    passed: bool
    message: str = ""

    def describe(self) -> str:
        if self.message:
            return self.message
        return f"{self.check}: expected {self.operator} {self.expected!r}, got {self.actual!r}"


@dataclass(frozen=True)
class StepResult:
    name: str
    type: str
    status: StepStatus
    started_at: datetime
    timings: Timings = field(default_factory=Timings)
    assertions: tuple[AssertionResult, ...] = ()
    extracted: dict[str, Any] = field(default_factory=dict)  # secrets already masked
    error: str | None = None
    request: dict[str, Any] = field(default_factory=dict)  # method, url (masked)
    response_status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)  # masked
    body_excerpt: str | None = None  # at most the stored cap, masked
    body_truncated: bool = False
    redirects: tuple[str, ...] = ()

    @property
    def failed_assertion(self) -> AssertionResult | None:
        return next((a for a in self.assertions if not a.passed), None)

    @property
    def reason(self) -> str | None:
        """Why this step did not succeed, in one line."""
        if self.status is StepStatus.SUCCEEDED:
            return None
        if self.status is StepStatus.SKIPPED:
            return self.error  # why a cleanup step did not run, if it says
        failed = self.failed_assertion
        if failed is not None:
            return failed.describe()
        return self.error


@dataclass(frozen=True)
class ExecutionResult:
    workflow: str
    location: str
    slot_at: datetime
    started_at: datetime
    finished_at: datetime
    status: ExecutionStatus
    steps: tuple[StepResult, ...] = ()
    error: str | None = None
    attempts: int = 1
    trigger: str = "schedule"  # schedule | manual | catch-up
    workflow_version: str | None = None
    # Measured on the monotonic clock: the wall clock may step (NTP) or run scaled (demo).
    elapsed_ms: float | None = None

    @property
    def duration_ms(self) -> float:
        if self.elapsed_ms is not None:
            return self.elapsed_ms
        return (self.finished_at - self.started_at).total_seconds() * 1000.0

    @property
    def failed_step(self) -> StepResult | None:
        return next(
            (s for s in self.steps if s.status not in (StepStatus.SUCCEEDED, StepStatus.SKIPPED)),
            None,
        )

    @property
    def reason(self) -> str | None:
        """The first failure's reason, prefixed with its step name."""
        step = self.failed_step
        if step is not None and step.reason:
            return f"{step.name}: {step.reason}"
        return self.error
