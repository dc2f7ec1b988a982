"""A report: what happened over one period, per workflow and for the daemon itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import reduce

from wfmon.domain.run import ExecutionStatus
from wfmon.reports.failures import FailureGroup
from wfmon.reports.uptime import Coverage
from wfmon.storage.stats import CheckCounts, Percentiles, RunCounts

# Runs the bot itself could not complete (the engine or the network broke, or the daemon
# died mid-run), as opposed to a target that answered wrongly (`failed`) or slowly
# (`timeout`): what the "error rate" target measures.
ERROR_STATUSES = frozenset({ExecutionStatus.ERROR, ExecutionStatus.ABORTED})


@dataclass(frozen=True)
class WorkflowReport:
    name: str
    schedule: str | None  # in words; None when not configured (removed, manual runs only)
    locations: tuple[str, ...]
    counts: RunCounts  # executions started in the period, by status
    expected: int | None  # slots due (times locations); None when the schedule is unknown
    ran: int  # of the slots in the same window, those with an execution that is not missed
    missed: int
    duration: Percentiles  # duration_ms, p50/p95/p99
    lag: Percentiles  # seconds, p50/p99, schedule-triggered runs
    failures: tuple[FailureGroup, ...] = ()

    @property
    def uptime(self) -> float | None:
        """Succeeded / finished runs (missed included)."""
        return self.counts.success_ratio

    @property
    def adherence(self) -> float | None:
        """Share of the expected slots that ran (capped at 1); None when none was due."""
        if not self.expected:
            return None
        return min(1.0, self.ran / self.expected)


@dataclass(frozen=True)
class Report:
    start: datetime
    end: datetime
    generated_at: datetime
    workflows: tuple[WorkflowReport, ...]
    daemon: Coverage  # from heartbeats
    checks: Coverage  # from every round of health checks
    check_counts: Mapping[str, CheckCounts] = field(default_factory=dict)
    lag: Percentiles = field(default_factory=Percentiles)  # all workflows, seconds
    settle_s: float = 0.0  # the slot window ends this long before `end` (see build.py)

    @property
    def totals(self) -> RunCounts:
        return reduce(lambda a, b: a + b, (w.counts for w in self.workflows), RunCounts())

    @property
    def expected(self) -> int:
        return sum(w.expected or 0 for w in self.workflows)

    @property
    def ran(self) -> int:
        """Expected slots that ran, each workflow capped at what was expected of it."""
        return sum(min(w.ran, w.expected) for w in self.workflows if w.expected)

    @property
    def adherence(self) -> float | None:
        return self.ran / self.expected if self.expected else None

    @property
    def errors(self) -> int:
        totals = self.totals
        return sum(totals[s] for s in ERROR_STATUSES)

    @property
    def error_ratio(self) -> float | None:
        """Runs ending in `error` or `aborted` / runs that ran (succeeded or failures)."""
        ran = self.totals.ran
        return self.errors / ran if ran else None
