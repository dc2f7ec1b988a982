"""`wfmon report --validate`: each target against a hand-built report."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wfmon.domain.run import ExecutionStatus
from wfmon.reports.model import Report, WorkflowReport
from wfmon.reports.uptime import Coverage, Gap
from wfmon.reports.validate import Targets, all_passed, validate
from wfmon.storage.stats import Percentiles, RunCounts

START = datetime(2026, 3, 1, tzinfo=UTC)
END = START + timedelta(days=1)
DAY = 86400.0
S, F, E, A, M = (
    ExecutionStatus.SUCCEEDED,
    ExecutionStatus.FAILED,
    ExecutionStatus.ERROR,
    ExecutionStatus.ABORTED,
    ExecutionStatus.MISSED,
)


def cover(up_s: float = DAY, longest_gap_s: float = 300.0, beats: int = 288) -> Coverage:
    down = DAY - up_s
    gaps = (Gap(START, START + timedelta(seconds=down)),) if down else ()
    return Coverage(START, END, 300.0, beats, up_s, gaps, longest_gap_s)


def wf(counts: dict[ExecutionStatus, int] | None = None, **changes: Any) -> WorkflowReport:
    fields: dict[str, Any] = {
        "name": "checkout",
        "schedule": "every 5 minutes",
        "locations": ("local",),
        "counts": RunCounts(counts if counts is not None else {S: 288}),
        "expected": 288,
        "ran": 288,
        "missed": 0,
        "duration": Percentiles(),
        "lag": Percentiles(),
    }
    fields.update(changes)
    return WorkflowReport(**fields)


def report(*workflows: WorkflowReport, **changes: Any) -> Report:
    fields: dict[str, Any] = {
        "start": START,
        "end": END,
        "generated_at": END,
        "workflows": workflows or (wf(),),
        "daemon": cover(),
        "checks": cover(),
    }
    fields.update(changes)
    return Report(**fields)


CASES = [
    # (id, report, the verdict per target: uptime, as scheduled, checks on time, error rate)
    ("all met", report(), [True, True, True, True]),
    # Daemon uptime must be more than 99%: 99% exactly fails.
    ("uptime 99.5%", report(daemon=cover(up_s=DAY * 0.995)), [True, True, True, True]),
    ("uptime exactly 99%", report(daemon=cover(up_s=DAY * 0.99)), [False, True, True, True]),
    ("no heartbeat", report(daemon=cover(up_s=0, beats=0)), [False, True, True, True]),
    # At least 99% of the expected slots ran.
    ("286 of 288 slots (99.3%)", report(wf(ran=286, missed=2)), [True, True, True, True]),
    ("285 of 288 slots (98.96%)", report(wf(ran=285, missed=3)), [True, False, True, True]),
    # More runs than expected (a schedule changed) cannot make up for another's misses.
    (
        "an overrun does not hide a miss",
        report(wf(ran=400), wf(name="b", expected=100, ran=90)),
        [True, False, True, True],
    ),
    ("nothing was due", report(wf(expected=0, ran=0)), [True, True, True, True]),
    ("schedule unknown", report(wf(expected=None, ran=5)), [True, True, True, True]),
    # No gap between rounds of health checks longer than 2 intervals (10 min).
    ("a gap of 10 minutes", report(checks=cover(longest_gap_s=600)), [True, True, True, True]),
    ("a gap of 11 minutes", report(checks=cover(longest_gap_s=660)), [True, True, False, True]),
    (
        "no health checks",
        report(checks=cover(beats=0, longest_gap_s=DAY)),
        [True, True, False, True],
    ),
    # Error rate under 1%: runs ending in error or aborted, among those that ran.
    ("2 errors in 288", report(wf({S: 286, E: 2})), [True, True, True, True]),
    ("3 errors in 288", report(wf({S: 285, E: 2, A: 1})), [True, True, True, False]),
    # Failed assertions are the target's fault, not the bot's, and missed slots count above.
    (
        "failures and misses are no errors",
        report(wf({S: 200, F: 80, M: 8})),
        [True, True, True, True],
    ),
    ("no runs at all", report(wf({})), [True, True, True, True]),
]


@pytest.mark.parametrize(("case", "given", "verdicts"), CASES, ids=[c[0] for c in CASES])
def test_it_checks_each_target(case: str, given: Report, verdicts: list[bool]) -> None:
    results = validate(given)

    assert [r.code for r in results] == [
        "daemon_uptime",
        "executions_as_scheduled",
        "health_check_interval",
        "error_rate",
    ]
    assert [r.passed for r in results] == verdicts
    assert all_passed(results) is all(verdicts)
    assert [r.verdict for r in results] == ["PASS" if v else "FAIL" for v in verdicts]


def test_results_say_the_figures_behind_them() -> None:
    results = validate(report(wf(expected=290, ran=285), daemon=cover(up_s=DAY * 0.995)))

    assert [(r.actual, r.goal) for r in results] == [
        ("99.50%", "> 99%"),
        ("98.28%", ">= 99%"),
        ("longest gap 5 min", "no gap > 10 min"),
        ("0.00%", "< 1%"),
    ]
    assert results[1].detail == "285 of 290 expected slots ran"


def test_targets_are_parameters() -> None:
    strict = replace(Targets(), daemon_uptime=0.999)

    assert validate(report(daemon=cover(up_s=DAY * 0.995)), strict)[0].passed is False
