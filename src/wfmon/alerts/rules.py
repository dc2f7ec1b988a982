"""Rules: pure functions of a subject's stored runs and `now`, returning a `Finding`.

FAILING opens (or keeps) an alert, OK resolves it, UNKNOWN leaves it as it is: each rule
has hysteresis (N failures to fire, M successes to resolve) so a flicker neither fires nor
resolves. One function per kind, in `EXECUTION_RULES`; `no_executions`, `anomaly` and the
heartbeat are judged by the periodic check (`deadman.py`) and analytics events.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from wfmon.alerts.facts import Finding, Run, SubjectFacts
from wfmon.alerts.rulespecs import (
    ConsecutiveFailures,
    FailureRate,
    Latency,
    LatencyPercentile,
    RuleBase,
    TlsExpiry,
)
from wfmon.domain.alert import Verdict
from wfmon.status.words import duration_words, millis

MAX_IDS = 20  # executions named as the cause of an event, newest first


def evaluate(rule: RuleBase, facts: SubjectFacts, now: datetime) -> Finding:
    judge = EXECUTION_RULES[str(getattr(rule, "kind", ""))]
    return judge(rule, facts, now)


def consecutive_failures(rule: RuleBase, facts: SubjectFacts, now: datetime) -> Finding:
    assert isinstance(rule, ConsecutiveFailures)
    runs = facts.runs
    failed = _streak(runs, lambda r: r.failed)
    if failed >= rule.failures:
        return _finding(
            rule,
            facts,
            Verdict.FAILING,
            "failed_in_a_row",
            f"failed {failed} runs in a row",
            runs[:failed],
        )
    ok = _streak(runs, lambda r: r.succeeded)
    if ok >= rule.recoveries:
        return _finding(
            rule,
            facts,
            Verdict.OK,
            "succeeded_in_a_row",
            f"succeeded {ok} runs in a row",
            runs[:ok],
        )
    return _unknown(rule, "not_enough_in_a_row", f"{failed} failure(s), {ok} success(es) in a row")


def failure_rate(rule: RuleBase, facts: SubjectFacts, now: datetime) -> Finding:
    assert isinstance(rule, FailureRate)
    recent = [r for r in facts.runs if r.started_at >= now - timedelta(seconds=rule.window)]
    failed = [r for r in recent if r.failed]
    window = duration_words(rule.window)
    if len(failed) >= rule.failures:
        message = f"failed {len(failed)} of {len(recent)} runs in the last {window}"
        return _finding(rule, facts, Verdict.FAILING, "failure_rate", message, failed)
    ok = _streak(facts.runs, lambda r: r.succeeded)
    if ok >= rule.recoveries:
        message = f"{len(failed)} failure(s) in the last {window}, the last {ok} runs succeeded"
        return _finding(rule, facts, Verdict.OK, "failure_rate_recovered", message, facts.runs[:ok])
    return _unknown(rule, "failure_rate_unsettled", f"{len(failed)} failure(s) in {window}")


def latency(rule: RuleBase, facts: SubjectFacts, now: datetime) -> Finding:
    assert isinstance(rule, Latency)
    timed = [(r, v) for r in facts.runs if r.succeeded and (v := _ms(r, rule.step)) is not None]
    limit = (rule.threshold or 0.0) * 1000.0
    what = f"step {rule.step}" if rule.step else "the workflow"
    slow = _streak([v for _, v in timed], lambda v: v > limit)
    if slow >= rule.runs:
        message = (
            f"{what} took over {millis(limit)} in {slow} runs in a row "
            f"(latest {millis(timed[0][1])})"
        )
        runs = [r for r, _ in timed[:slow]]
        return _finding(rule, facts, Verdict.FAILING, "slow_in_a_row", message, runs)
    fast = _streak([v for _, v in timed], lambda v: v <= limit)
    if fast >= rule.recoveries:
        message = f"{what} took at most {millis(limit)} in the last {fast} runs"
        runs = [r for r, _ in timed[:fast]]
        return _finding(rule, facts, Verdict.OK, "fast_again", message, runs)
    return _unknown(rule, "latency_unsettled", f"{slow} slow run(s) in a row")


def latency_percentile(rule: RuleBase, facts: SubjectFacts, now: datetime) -> Finding:
    assert isinstance(rule, LatencyPercentile)
    since = now - timedelta(seconds=rule.window)
    timed = [
        (r, v)
        for r in facts.runs
        if r.succeeded and r.started_at >= since and (v := _ms(r, rule.step)) is not None
    ]
    q = f"p{rule.percentile:g}"
    if len(timed) < rule.min_runs:
        return _unknown(rule, "too_few_runs", f"{len(timed)} run(s), {q} needs {rule.min_runs}")
    value = nearest_rank([v for _, v in timed], rule.percentile)
    limit = (rule.threshold or 0.0) * 1000.0
    what = f"step {rule.step}" if rule.step else "the workflow"
    message = (
        f"{q} of {what} over the last {duration_words(rule.window)} is {millis(value)} "
        f"({'over' if value > limit else 'within'} {millis(limit)}, {len(timed)} runs)"
    )
    runs = [r for r, _ in timed]
    if value > limit:
        return _finding(rule, facts, Verdict.FAILING, "percentile_over", message, runs)
    return _finding(rule, facts, Verdict.OK, "percentile_within", message, runs)


def tls_expiry(rule: RuleBase, facts: SubjectFacts, now: datetime) -> Finding:
    assert isinstance(rule, TlsExpiry)
    for run in facts.runs:
        days = [d for step, d in run.tls_days.items() if rule.step in (None, step)]
        if not days:
            continue
        left = min(days)
        if left < rule.days:
            message = f"the certificate expires in {left:.1f} days (warning at {rule.days:g})"
            return _finding(rule, facts, Verdict.FAILING, "certificate_expiring", message, [run])
        message = f"the certificate is valid for {left:.1f} more days"
        return _finding(rule, facts, Verdict.OK, "certificate_valid", message, [run])
    return _unknown(rule, "no_certificate_data", "no tls step recorded days to expiry")


EXECUTION_RULES: dict[str, Callable[[RuleBase, SubjectFacts, datetime], Finding]] = {
    "consecutive_failures": consecutive_failures,
    "failure_rate": failure_rate,
    "latency": latency,
    "latency_p95": latency_percentile,
    "tls_expiry": tls_expiry,
}


# -- helpers ----------------------------------------------------------------------------


def nearest_rank(values: Sequence[float], percentile: float) -> float:
    """The smallest value with at least `percentile`% of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(percentile / 100.0 * len(ordered)))
    return ordered[rank - 1]


def _streak(items: Sequence[Any], test: Callable[[Any], bool]) -> int:
    count = 0
    for item in items:
        if not test(item):
            break
        count += 1
    return count


def _ms(run: Run, step: str | None) -> float | None:
    return run.duration_ms if step is None else run.step_ms.get(step)


def _finding(
    rule: RuleBase,
    facts: SubjectFacts,
    verdict: Verdict,
    reason: str,
    message: str,
    runs: Sequence[Run],
) -> Finding:
    details: dict[str, Any] = {}
    failure = facts.failure
    if verdict is Verdict.FAILING and failure is not None and any(r.failed for r in runs):
        details = {
            "step": failure.step,
            "expected": failure.expected,
            "actual": failure.actual,
            "error": failure.error,
            "execution_id": failure.execution_id,
        }
    elif runs:
        details = {"execution_id": runs[0].id}
    since = runs[-1].started_at if runs else None
    if since is not None:
        details["since"] = since.isoformat()
    details["runs"] = len(runs)
    return Finding(
        rule=rule.key,
        kind=str(getattr(rule, "kind", "")),
        severity=rule.severity,
        verdict=verdict,
        reason=reason,
        message=message,
        execution_ids=tuple(r.id for r in runs[:MAX_IDS]),
        since=since,
        runs=len(runs),
        facts=details,
    )


def _unknown(rule: RuleBase, reason: str, message: str) -> Finding:
    return Finding(
        rule=rule.key,
        kind=str(getattr(rule, "kind", "")),
        severity=rule.severity,
        verdict=Verdict.UNKNOWN,
        reason=reason,
        message=message,
    )
