"""What the alert decisions look at: stored facts, as plain values (no I/O here).

`wfmon.storage.alert_facts` reads them; every function in rules, lifecycle, flapping,
silences and notices takes them with `now` and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wfmon.domain.alert import Severity, Verdict
from wfmon.domain.run import ExecutionStatus
from wfmon.domain.workflow import Workflow

FAILED = frozenset(
    {
        ExecutionStatus.FAILED,
        ExecutionStatus.ERROR,
        ExecutionStatus.TIMEOUT,
        ExecutionStatus.ABORTED,
    }
)


@dataclass(frozen=True)
class Needs:
    """How much history a subject's rules look at (what storage loads)."""

    count: int = 10  # the newest runs, however old
    window_s: float = 0.0  # ...and every run in this window
    steps: frozenset[str] = frozenset()  # step timings for these steps
    tls: bool = False  # certificate days of tls steps


@dataclass(frozen=True)
class Run:
    """One execution that ran (succeeded or failed; never missed or cancelled)."""

    id: int
    started_at: datetime
    status: ExecutionStatus
    duration_ms: float | None = None
    step_ms: Mapping[str, float] = field(default_factory=dict)  # step name -> total ms
    tls_days: Mapping[str, float] = field(default_factory=dict)  # tls step -> days left

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    @property
    def succeeded(self) -> bool:
        return self.status is ExecutionStatus.SUCCEEDED


@dataclass(frozen=True)
class FailureFacts:
    """What the newest failed run says went wrong, for the message."""

    execution_id: int
    step: str | None = None
    expected: Any = None
    actual: Any = None
    error: str | None = None


@dataclass(frozen=True)
class SubjectFacts:
    """The runs of one workflow (at one location, when the workflow has several)."""

    workflow: Workflow
    location: str | None
    runs: tuple[Run, ...] = ()  # newest first
    failure: FailureFacts | None = None


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on its subject now, with a stable reason code and the evidence."""

    rule: str
    kind: str
    severity: Severity
    verdict: Verdict
    reason: str
    message: str
    execution_ids: tuple[int, ...] = ()
    since: datetime | None = None
    runs: int = 0
    facts: Mapping[str, Any] = field(default_factory=dict)  # step, expected, actual, error


def subject_key(rule: str, workflow: str | None, location: str | None = None) -> str:
    """The dedup key: one problem is one alert however many runs fail."""
    key = f"{rule}:{workflow}" if workflow is not None else rule
    return f"{key}@{location}" if location is not None else key
