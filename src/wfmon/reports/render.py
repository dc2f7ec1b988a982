"""A report as Markdown, JSON or a self-contained HTML page.

Workflow names and error texts come from config and from responses: Markdown escapes them
(a `|` would break a table, `<script>` would be raw HTML to most renderers), and the HTML
page is rendered by Jinja2 with autoescape on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined

from wfmon.reports.model import Report, WorkflowReport
from wfmon.reports.uptime import Coverage
from wfmon.reports.validate import TargetResult, validate
from wfmon.status.words import duration_words, millis, percent
from wfmon.storage.stats import Percentiles

Format = Literal["md", "json", "html"]
FORMATS: tuple[Format, ...] = ("md", "json", "html")


def render(report: Report, fmt: Format) -> str:
    return _RENDERERS[fmt](report)


# -- JSON -------------------------------------------------------------------------------


def report_json(report: Report) -> dict[str, Any]:
    """Everything in the report; times ISO 8601 UTC, ratios 0-1, durations ms, lags s."""
    totals = report.totals
    return {
        "period": {
            "start": report.start.isoformat(),
            "end": report.end.isoformat(),
            "seconds": (report.end - report.start).total_seconds(),
        },
        "generated_at": report.generated_at.isoformat(),
        "summary": {
            "runs": totals.total,
            "succeeded": totals.succeeded,
            "failures": totals.failures,
            "missed": totals.missed,
            "by_status": {s.value: n for s, n in sorted(totals.by_status.items())},
            "uptime_ratio": totals.success_ratio,
            "expected_slots": report.expected,
            "ran_slots": report.ran,
            "scheduled_ratio": report.adherence,
            "errors": report.errors,
            "error_ratio": report.error_ratio,
            "slot_window_settle_s": report.settle_s,
        },
        "daemon": _coverage_json(report.daemon),
        "health_checks": {
            **_coverage_json(report.checks),
            "by_name": {
                name: {"total": c.total, "failed": c.failed}
                for name, c in sorted(report.check_counts.items())
            },
        },
        "scheduler_lag_s": _percentiles_json(report.lag),
        "targets": [_target_json(r) for r in validate(report)],
        "workflows": [_workflow_json(w) for w in report.workflows],
    }


def render_json(report: Report) -> str:
    return json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"


def _coverage_json(cover: Coverage) -> dict[str, Any]:
    return {
        "uptime_ratio": cover.ratio,
        "up_s": cover.up_s,
        "period_s": cover.period_s,
        "rounds": cover.beats,
        "interval_s": cover.interval_s,
        "longest_gap_s": cover.longest_gap_s,
        "gaps": [
            {"start": g.start.isoformat(), "end": g.end.isoformat(), "seconds": g.seconds}
            for g in cover.gaps
        ],
    }


def _workflow_json(wf: WorkflowReport) -> dict[str, Any]:
    return {
        "name": wf.name,
        "schedule": wf.schedule,
        "locations": list(wf.locations),
        "runs": wf.counts.total,
        "by_status": {s.value: n for s, n in sorted(wf.counts.by_status.items())},
        "uptime_ratio": wf.uptime,
        "expected_slots": wf.expected,
        "ran_slots": wf.ran,
        "missed_slots": wf.missed,
        "scheduled_ratio": wf.adherence,
        "duration_ms": _percentiles_json(wf.duration),
        "lag_s": _percentiles_json(wf.lag),
        "failures": [
            {
                "status": f.status.value,
                "reason": f.reason,
                "count": f.count,
                "last_at": f.last_at.isoformat(),
                "example": f.example,
            }
            for f in wf.failures
        ],
    }


def _percentiles_json(p: Percentiles) -> dict[str, Any]:
    return {"samples": p.count, **{f"p{q}": v for q, v in sorted(p.values.items())}}


def _target_json(result: TargetResult) -> dict[str, Any]:
    return {
        "code": result.code,
        "name": result.name,
        "passed": result.passed,
        "actual": result.actual,
        "goal": result.goal,
        "detail": result.detail,
    }


# -- Markdown ---------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")


def md(text: object) -> str:
    """Text safe in a Markdown table cell: no markup, no raw HTML, one line."""
    value = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    return " ".join(value.split())


def render_markdown(report: Report) -> str:
    totals = report.totals
    lines = [
        f"# wfmon report {_period(report)}",
        "",
        f"Generated {_utc(report.generated_at)}. Times are UTC.",
        "",
        "## Summary",
        "",
        "| | |",
        "|---|---|",
        f"| runs | {totals.total} ({totals.succeeded} succeeded, {totals.failures} failed, "
        f"{totals.missed} missed) |",
        f"| uptime (succeeded / finished) | {percent(totals.success_ratio, 2)} |",
        f"| executions as scheduled | {_scheduled(report.ran, report.expected)} |",
        f"| error rate (error or aborted) | {percent(report.error_ratio, 2)} |",
        f"| daemon uptime | {_coverage(report.daemon)} |",
        f"| scheduler lag | {_lag(report.lag)} |",
        "",
        "## Targets",
        "",
        "| target | result | actual | goal | detail |",
        "|---|---|---|---|---|",
    ]
    for result in validate(report):
        lines.append(
            f"| {md(result.name)} | **{result.verdict}** | {md(result.actual)} | "
            f"{md(result.goal)} | {md(result.detail)} |"
        )
    lines += [
        "",
        "## Workflows",
        "",
        "| workflow | schedule | runs | uptime | as scheduled "
        "| p50 | p95 | p99 | lag p50 | lag p99 |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for wf in report.workflows:
        lines.append(
            f"| {md(wf.name)} | {md(wf.schedule or '-')} | {wf.counts.total} | "
            f"{percent(wf.uptime)} | {_scheduled(wf.ran, wf.expected)} | "
            f"{millis(wf.duration.get(50))} | {millis(wf.duration.get(95))} | "
            f"{millis(wf.duration.get(99))} | {_seconds(wf.lag.get(50))} | "
            f"{_seconds(wf.lag.get(99))} |"
        )
    if not report.workflows:
        lines.append("| (none) | | | | | | | | | |")
    failing = [wf for wf in report.workflows if wf.failures]
    lines += ["", "## Failures by reason", ""]
    if not failing:
        lines.append("None in the period.")
    for wf in failing:
        lines += [
            f"### {md(wf.name)}",
            "",
            "| count | status | reason | last | example |",
            "|--:|---|---|---|---|",
        ]
        for f in wf.failures:
            lines.append(
                f"| {f.count} | {f.status.value} | {md(f.reason)} | {_utc(f.last_at)} | "
                f"{md(f.example or '')} |"
            )
        lines.append("")
    if lines[-1] != "":
        lines.append("")
    lines += ["## Daemon", "", _gaps_text(report.daemon, "heartbeat"), ""]
    lines += ["## Health checks", "", "| check | rows | failed |", "|---|--:|--:|"]
    for name, counts in sorted(report.check_counts.items()):
        lines.append(f"| {md(name)} | {counts.total} | {counts.failed} |")
    if not report.check_counts:
        lines.append("| (none recorded) | | |")
    return "\n".join(lines).rstrip() + "\n"


def _gaps_text(cover: Coverage, what: str) -> str:
    head = (
        f"{cover.beats} {what}s, one expected every {duration_words(cover.interval_s)}; "
        f"up {percent(cover.ratio, 2)} of the period."
    )
    if not cover.gaps:
        return head + " No gap."
    items = "\n".join(
        f"- down {_utc(g.start)} to {_utc(g.end)} ({duration_words(g.seconds)})" for g in cover.gaps
    )
    return f"{head} Gaps longer than 2 intervals count as down:\n\n{items}"


# -- HTML -------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    # autoescape=True, not select_autoescape(): every template here is HTML, and a name
    # from a config or an error from a response must never become markup.
    env = Environment(
        loader=PackageLoader("wfmon.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        percent=percent,
        millis=millis,
        seconds=_seconds,
        duration=duration_words,
        utc=_utc,
        scheduled=_scheduled,
    )
    return env


def render_html(report: Report) -> str:
    template = _environment().get_template("report.html")
    return template.render(
        report=report,
        period=_period(report),
        targets=validate(report),
        lag=_lag(report.lag),
        daemon=_coverage(report.daemon),
    )


# -- shared words -----------------------------------------------------------------------


def _utc(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M")


def _period(report: Report) -> str:
    return f"{_utc(report.start)} to {_utc(report.end)} UTC"


def _scheduled(ran: int, expected: int | None) -> str:
    if expected is None:
        return "-"
    if expected == 0:
        return "none due"
    return f"{min(ran, expected)} of {expected} ({percent(min(1.0, ran / expected))})"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def _lag(p: Percentiles) -> str:
    if not p.count:
        return "no schedule-triggered runs"
    return f"p50 {_seconds(p.get(50))}, p99 {_seconds(p.get(99))} ({p.count} runs)"


def _coverage(cover: Coverage) -> str:
    return (
        f"{percent(cover.ratio, 2)} ({cover.beats} heartbeats, {len(cover.gaps)} gap(s), "
        f"longest silence {duration_words(cover.longest_gap_s)})"
    )


_RENDERERS: dict[Format, Callable[[Report], str]] = {
    "md": render_markdown,
    "json": render_json,
    "html": render_html,
}
