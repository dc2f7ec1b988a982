"""Alert rules: pure verdicts on a subject's runs, with hysteresis and named reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wfmon.alerts.facts import FailureFacts, Run, SubjectFacts
from wfmon.alerts.rules import evaluate, nearest_rank
from wfmon.alerts.rulespecs import (
    ConsecutiveFailures,
    FailureRate,
    Latency,
    LatencyPercentile,
    RuleBase,
    TlsExpiry,
)
from wfmon.domain.alert import Severity, Verdict
from wfmon.domain.run import ExecutionStatus
from wfmon.domain.workflow import Schedule, Workflow

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WORKFLOW = Workflow(name="checkout", steps=(), schedule=Schedule(every_s=60))


def runs(outcomes: str, *, every_s: float = 60, ms: list[float] | None = None) -> SubjectFacts:
    """Runs newest first: 'F' failed, 'S' succeeded, 'T' timed out; one per `every_s`."""
    status = {"F": ExecutionStatus.FAILED, "S": ExecutionStatus.SUCCEEDED}
    status["T"] = ExecutionStatus.TIMEOUT
    made = tuple(
        Run(
            id=100 - i,
            started_at=NOW - timedelta(seconds=every_s * (i + 1)),
            status=status[o],
            duration_ms=(ms[i] if ms else 100.0),
            step_ms={"pay": ms[i]} if ms else {},
        )
        for i, o in enumerate(outcomes)
    )
    failure = FailureFacts(100, step="login", expected="== 200", actual=503)
    return SubjectFacts(WORKFLOW, None, made, failure if made and made[0].failed else None)


CONSECUTIVE = ConsecutiveFailures(kind="consecutive_failures", failures=2, recoveries=2)


@pytest.mark.parametrize(
    ("outcomes", "verdict", "reason"),
    [
        ("FF", Verdict.FAILING, "failed_in_a_row"),  # the default: two in a row fire
        ("FFFS", Verdict.FAILING, "failed_in_a_row"),  # newest first: three failures
        ("TF", Verdict.FAILING, "failed_in_a_row"),  # a timeout is a failure
        ("F", Verdict.UNKNOWN, "not_enough_in_a_row"),  # one failure is a flicker
        ("FSF", Verdict.UNKNOWN, "not_enough_in_a_row"),  # alternating never fires
        ("SF", Verdict.UNKNOWN, "not_enough_in_a_row"),  # one success does not resolve
        ("SSFF", Verdict.OK, "succeeded_in_a_row"),  # two successes resolve
        ("", Verdict.UNKNOWN, "not_enough_in_a_row"),  # nothing ran yet
    ],
)
def test_consecutive_failures_fire_on_n_and_resolve_on_m(
    outcomes: str, verdict: Verdict, reason: str
) -> None:
    finding = evaluate(CONSECUTIVE, runs(outcomes), NOW)
    assert (finding.verdict, finding.reason) == (verdict, reason)


def test_a_failing_finding_names_its_executions_step_and_values() -> None:
    finding = evaluate(CONSECUTIVE, runs("FFFS"), NOW)

    assert finding.message == "failed 3 runs in a row"
    assert finding.execution_ids == (100, 99, 98)
    assert finding.since == NOW - timedelta(seconds=180)
    assert finding.facts["step"] == "login"
    assert (finding.facts["expected"], finding.facts["actual"]) == ("== 200", 503)
    assert finding.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("outcomes", "verdict", "reason"),
    [
        # 3 failures in 15 min fire, even interleaved with successes (a flaky journey)
        ("FSFSF", Verdict.FAILING, "failure_rate"),
        # 3 failures, but the third is 19 min old: outside the window
        ("SSFSFSSSSSSSSSSSSSF", Verdict.OK, "failure_rate_recovered"),
        ("SSFSF", Verdict.OK, "failure_rate_recovered"),  # under the rate, 2 successes
        ("SFSF", Verdict.UNKNOWN, "failure_rate_unsettled"),  # under the rate, still failing
    ],
)
def test_failure_rate_counts_failures_within_the_window(
    outcomes: str, verdict: Verdict, reason: str
) -> None:
    rule = FailureRate(kind="failure_rate", failures=3, window=900)
    finding = evaluate(rule, runs(outcomes), NOW)
    assert (finding.verdict, finding.reason) == (verdict, reason)
    assert finding.severity is Severity.WARNING


@pytest.mark.parametrize(
    ("ms", "verdict", "reason"),
    [
        ([2500, 2600, 2100], Verdict.FAILING, "slow_in_a_row"),  # 3 slow runs in a row
        ([2500, 2600, 900], Verdict.UNKNOWN, "latency_unsettled"),  # only 2
        ([900, 800, 2500], Verdict.OK, "fast_again"),  # 2 fast runs resolve
        ([2000, 2000, 2000], Verdict.OK, "fast_again"),  # at the threshold is not over
    ],
)
def test_latency_over_threshold_for_n_runs_is_degraded(
    ms: list[float], verdict: Verdict, reason: str
) -> None:
    rule = Latency(kind="latency", threshold=2.0, step="pay", runs=3)
    finding = evaluate(rule, runs("SSS", ms=ms), NOW)
    assert (finding.verdict, finding.reason) == (verdict, reason)
    assert finding.severity is Severity.DEGRADED  # slow is not down


def test_latency_ignores_failed_runs() -> None:
    rule = Latency(kind="latency", threshold=2.0, runs=2)
    # The two slow runs failed (the failure rules' business); the fast ones succeeded.
    finding = evaluate(rule, runs("FFSS", ms=[5000, 5000, 100, 100]), NOW)
    assert finding.verdict is Verdict.OK


@pytest.mark.parametrize(
    ("ms", "verdict", "reason"),
    [
        ([100] * 19 + [3000], Verdict.OK, "percentile_within"),  # 5% slow: p95 is fine
        ([100] * 17 + [3000] * 3, Verdict.FAILING, "percentile_over"),  # 15% slow: p95 slow
        ([3000] * 4, Verdict.UNKNOWN, "too_few_runs"),  # fewer than min_runs
    ],
)
def test_latency_p95_over_a_window(ms: list[float], verdict: Verdict, reason: str) -> None:
    rule = LatencyPercentile(kind="latency_p95", threshold=2.0, window=3600, min_runs=5)
    finding = evaluate(rule, runs("S" * len(ms), ms=ms), NOW)
    assert (finding.verdict, finding.reason) == (verdict, reason)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 50, 2),
        ([1, 2, 3, 4], 95, 4),
        ([5], 95, 5),
        (list(range(1, 101)), 95, 95),
    ],
)
def test_nearest_rank_percentiles(values: list[float], q: float, expected: float) -> None:
    assert nearest_rank(values, q) == expected


@pytest.mark.parametrize(
    ("days", "verdict", "reason"),
    [
        (3.5, Verdict.FAILING, "certificate_expiring"),
        (40.0, Verdict.OK, "certificate_valid"),
        (None, Verdict.UNKNOWN, "no_certificate_data"),
    ],
)
def test_tls_expiry_reads_the_days_a_tls_step_recorded(
    days: float | None, verdict: Verdict, reason: str
) -> None:
    base = runs("S")
    run = base.runs[0]
    if days is not None:
        run = Run(run.id, run.started_at, run.status, tls_days={"cert": days})
    facts = SubjectFacts(WORKFLOW, None, (run,))
    finding = evaluate(TlsExpiry(kind="tls_expiry", days=14), facts, NOW)
    assert (finding.verdict, finding.reason) == (verdict, reason)


def test_every_execution_rule_kind_has_a_judge() -> None:
    from wfmon.alerts.rules import EXECUTION_RULES
    from wfmon.alerts.rulespecs import EXECUTION_KINDS

    assert set(EXECUTION_RULES) == EXECUTION_KINDS
    rule: RuleBase = CONSECUTIVE
    assert rule.key == "consecutive_failures"
