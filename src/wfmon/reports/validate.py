"""`wfmon report --validate`: the period against the service targets, as pure checks.

| target | passes when |
|---|---|
| daemon uptime | heartbeats cover more than 99% of the period |
| executions as scheduled | at least 99% of the expected slots have a non-missed execution |
| health checks | no gap between rounds of health checks longer than 2 intervals |
| error rate | under 1% of the runs end in `error` or `aborted` |
"""

from __future__ import annotations

from dataclasses import dataclass

from wfmon.reports.model import Report
from wfmon.status.words import duration_words, percent


@dataclass(frozen=True)
class Targets:
    daemon_uptime: float = 0.99  # more than this share of the period
    scheduled: float = 0.99  # at least this share of the expected slots ran
    check_gap_intervals: float = 2.0  # no silence between health checks longer than this
    error_ratio: float = 0.01  # fewer than this share of the runs end in error/aborted


DEFAULT_TARGETS = Targets()


@dataclass(frozen=True)
class TargetResult:
    code: str  # stable, for scripts
    name: str
    passed: bool
    actual: str
    goal: str
    detail: str = ""

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"


def validate(report: Report, targets: Targets = DEFAULT_TARGETS) -> list[TargetResult]:
    """One result per target, in a fixed order."""
    return [
        _daemon_uptime(report, targets),
        _scheduled(report, targets),
        _check_interval(report, targets),
        _error_rate(report, targets),
    ]


def all_passed(results: list[TargetResult]) -> bool:
    return all(r.passed for r in results)


def _daemon_uptime(report: Report, t: Targets) -> TargetResult:
    cover = report.daemon
    ratio = cover.ratio
    down = sum(g.seconds for g in cover.gaps)
    detail = f"{cover.beats} heartbeats, {len(cover.gaps)} gap(s), down {duration_words(down)}"
    return TargetResult(
        "daemon_uptime",
        "daemon uptime",
        ratio is not None and ratio > t.daemon_uptime,
        percent(ratio, 2),
        f"> {percent(t.daemon_uptime, 0)}",
        detail,
    )


def _scheduled(report: Report, t: Targets) -> TargetResult:
    expected, ran = report.expected, report.ran
    if not expected:
        return TargetResult(
            "executions_as_scheduled",
            "executions as scheduled",
            True,
            "-",
            f">= {percent(t.scheduled, 0)}",
            "no slot was due in the period",
        )
    ratio = ran / expected
    return TargetResult(
        "executions_as_scheduled",
        "executions as scheduled",
        ratio >= t.scheduled,
        percent(ratio, 2),
        f">= {percent(t.scheduled, 0)}",
        f"{ran} of {expected} expected slots ran",
    )


def _check_interval(report: Report, t: Targets) -> TargetResult:
    cover = report.checks
    limit = t.check_gap_intervals * cover.interval_s
    passed = cover.beats > 0 and cover.longest_gap_s <= limit
    detail = f"{cover.beats} rounds, every {duration_words(cover.interval_s)} expected"
    return TargetResult(
        "health_check_interval",
        "health checks on time",
        passed,
        f"longest gap {duration_words(cover.longest_gap_s)}",
        f"no gap > {duration_words(limit)}",
        detail,
    )


def _error_rate(report: Report, t: Targets) -> TargetResult:
    ratio = report.error_ratio
    ran = report.totals.ran
    return TargetResult(
        "error_rate",
        "error rate",
        ratio is None or ratio < t.error_ratio,
        percent(ratio, 2),
        f"< {percent(t.error_ratio, 0)}",
        f"{report.errors} of {ran} runs ended in error or aborted" if ran else "no runs",
    )
