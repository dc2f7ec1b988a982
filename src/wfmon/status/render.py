"""`wfmon status` on a terminal (Rich) and as JSON.

The page is a list of sections, each a function of the `StatusView`: to add one (firing
alerts, dead notifications), write the function and add it to `SECTIONS`, and its data to
`status_json`. Every name and message from the database goes in as `Text`, never as markup,
so a workflow named `[red]x` is shown as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from wfmon.status.assess import Assessment, Level
from wfmon.status.facts import CheckFacts, StatusFacts, WorkflowFacts
from wfmon.status.words import ago, clock_time, duration_words, millis, percent
from wfmon.storage.stats import RunCounts

# Not imported from wfmon.cli.render: the CLI package imports this module (a cycle).
STATUS_STYLE = {"succeeded": "green", "failed": "red", "error": "red", "timeout": "yellow"}
LEVEL_STYLE = {
    Level.HEALTHY: "bold green",
    Level.DEGRADED: "bold yellow",
    Level.DOWN: "bold red",
    Level.UNKNOWN: "bold magenta",
}


@dataclass(frozen=True)
class StatusView:
    facts: StatusFacts
    assessment: Assessment
    advice: list[str]
    now: datetime


Section = Callable[[StatusView], RenderableType | None]


def render(console: Console, view: StatusView) -> None:
    for title, section in SECTIONS:
        body = section(view)
        if body is None:
            continue
        console.rule(Text(title, style="bold"), align="left")
        console.print(body)
        console.print()


def database_section(view: StatusView) -> RenderableType:
    db = view.facts.database
    grid = _grid()
    grid.add_row("url", Text(db.url))
    if db.dialect:
        grid.add_row("dialect", db.dialect)
    if db.error:
        grid.add_row("error", Text(db.error, style="red"))
        return grid
    grid.add_row("ping", millis(db.ping_ms))
    if db.revision is None:
        grid.add_row("migration", Text("none: no wfmon tables yet", style="yellow"))
    elif db.revision == db.head_revision:
        grid.add_row("migration", f"{db.revision} (up to date)")
    else:
        grid.add_row("migration", Text(f"{db.revision} (this wfmon ships {db.head_revision})"))
    return grid


def daemon_section(view: StatusView) -> RenderableType | None:
    facts, now = view.facts, view.now
    if not facts.database.reachable or facts.database.revision is None:
        return None
    beat = facts.heartbeat
    if beat is None:
        return Text("no heartbeat recorded: the daemon never ran against this database")
    grid = _grid()
    grid.add_row(
        "last heartbeat", f"{clock_time(beat.checked_at, now)} ({ago(beat.checked_at, now)})"
    )
    grid.add_row("expected every", duration_words(facts.interval_s))
    if beat.instance:
        grid.add_row("instance", Text(beat.instance))
    if beat.pid is not None:
        grid.add_row("pid", str(beat.pid))
    if beat.version:
        grid.add_row("version", Text(beat.version))
    if beat.started_at is not None:
        grid.add_row("running since", clock_time(beat.started_at, now))
    return grid


def workflows_section(view: StatusView) -> RenderableType | None:
    workflows = view.facts.workflows
    if not _has_tables(view):
        return None
    if not workflows:
        return Text("no workflows configured or run yet")
    table = Table(
        caption="runs started in the last hour and day; ok = succeeded / finished (missed "
        "included); durations over the day",
        caption_justify="left",
    )
    for column in ("workflow", "last run", "result", "1h runs", "1h ok", "24h runs", "24h ok"):
        table.add_column(column, justify="right" if "runs" in column or "ok" in column else "left")
    table.add_column("p50", justify="right")
    table.add_column("p95", justify="right")
    for wf in workflows:
        last = wf.last
        table.add_row(
            Text(wf.name),
            ago(last.started_at, view.now) if last else "never",
            Text(last.status.value, style=STATUS_STYLE.get(last.status.value, "dim"))
            if last
            else Text("-"),
            str(wf.last_hour.total),
            _ok(wf.last_hour),
            str(wf.last_day.total),
            _ok(wf.last_day),
            millis(wf.duration.get(50)),
            millis(wf.duration.get(95)),
        )
    return table


def checks_section(view: StatusView) -> RenderableType | None:
    if not _has_tables(view):
        return None
    if not view.facts.checks:
        return Text("no health checks recorded (the daemon stores them every few minutes)")
    table = Table(
        caption="each self check's latest result; failures counted over the last hour",
        caption_justify="left",
    )
    for column in ("check", "result", "checked", "failures 1h", "detail"):
        table.add_column(column)
    for check in view.facts.checks:
        table.add_row(
            Text(check.name),
            Text("ok", style="green") if check.ok else Text("FAIL", style="bold red"),
            ago(check.checked_at, view.now),
            _failures(check),
            Text(check.detail),
        )
    return table


def schedules_section(view: StatusView) -> RenderableType | None:
    planned = [wf for wf in view.facts.workflows if wf.plan is not None]
    if not _has_tables(view) or not planned:
        return None
    table = Table(caption="times in UTC", caption_justify="left")
    for column in ("workflow", "schedule", "locations", "next run"):
        table.add_column(column)
    for wf in planned:
        assert wf.plan is not None
        table.add_row(
            Text(wf.name),
            Text(wf.plan.words),
            Text(", ".join(wf.plan.locations)),
            _next(wf, view.now),
        )
    return table


def alerts_section(view: StatusView) -> RenderableType | None:
    alerts = view.facts.alerts
    if not _has_tables(view):
        return None
    if not alerts.available:
        return Text("no alerting tables in this database: run `wfmon db upgrade`")
    lines: list[RenderableType] = []
    if alerts.open:
        table = Table()
        for column in ("id", "state", "severity", "workflow", "rule", "since", "summary"):
            table.add_column(column)
        for a in alerts.open:
            table.add_row(
                str(a.id),
                Text(a.state.value, style="bold red" if a.state.value == "firing" else "yellow"),
                a.severity.value,
                Text(a.workflow or "wfmon"),
                Text(a.rule),
                ago(a.opened_at, view.now),
                Text(a.summary),
            )
        lines.append(table)
    else:
        lines.append(Text("no open alerts"))
    outbox = f"notifications: {alerts.pending} waiting, {alerts.dead} dead"
    lines.append(Text(outbox, style="bold red" if alerts.dead else ""))
    return Group(*lines)


def assessment_section(view: StatusView) -> RenderableType:
    level = view.assessment.level
    lines: list[RenderableType] = [
        Text(f"{level.value} (exit code {level.exit_code})", style=LEVEL_STYLE[level])
    ]
    for reason in view.assessment.reasons:
        lines.append(Text(f"  - {reason.message}"))
    return Group(*lines)


def recommendations_section(view: StatusView) -> RenderableType:
    if not view.advice:
        return Text("nothing to do")
    return Group(*(Text(f"{n}. {text}") for n, text in enumerate(view.advice, 1)))


SECTIONS: tuple[tuple[str, Section], ...] = (
    ("Database", database_section),
    ("Daemon", daemon_section),
    ("Workflow executions", workflows_section),
    ("Health checks", checks_section),
    ("Schedules", schedules_section),
    ("Alerts", alerts_section),
    ("Assessment", assessment_section),
    ("Recommendations", recommendations_section),
)


# -- JSON -------------------------------------------------------------------------------


def status_json(view: StatusView) -> dict[str, Any]:
    """The same facts and verdict for scripts; times are ISO 8601 UTC."""
    facts, now = view.facts, view.now
    db = facts.database
    beat = facts.heartbeat
    return {
        "generated_at": now.isoformat(),
        "assessment": {
            "level": view.assessment.level.value,
            "exit_code": view.assessment.exit_code,
            "reasons": [
                {"code": r.code, "level": r.level.value, "message": r.message, "subject": r.subject}
                for r in view.assessment.reasons
            ],
        },
        "recommendations": list(view.advice),
        "database": {
            "url": db.url,
            "dialect": db.dialect,
            "ping_ms": db.ping_ms,
            "revision": db.revision,
            "head_revision": db.head_revision,
            "error": db.error,
        },
        "daemon": None
        if beat is None
        else {
            "last_heartbeat": beat.checked_at.isoformat(),
            "instance": beat.instance,
            "pid": beat.pid,
            "version": beat.version,
            "started_at": _iso(beat.started_at),
            "uptime_s": beat.uptime_s,
            "interval_s": facts.interval_s,
        },
        "health_checks": [_check_json(c) for c in facts.checks],
        "workflows": [_workflow_json(w, now) for w in facts.workflows],
        "alerts": facts.alerts.to_json(),
    }


def _workflow_json(wf: WorkflowFacts, now: datetime) -> dict[str, Any]:
    last = wf.last
    plan = wf.plan
    return {
        "name": wf.name,
        "last_run": None
        if last is None
        else {
            "started_at": last.started_at.isoformat(),
            "status": last.status.value,
            "error": last.error,
            "duration_ms": last.duration_ms,
        },
        "last_hour": _counts_json(wf.last_hour),
        "last_day": _counts_json(wf.last_day),
        "duration_ms": {"p50": wf.duration.get(50), "p95": wf.duration.get(95)},
        "schedule": None
        if plan is None
        else {
            "words": plan.words,
            "cron": plan.schedule.cron if plan.schedule else None,
            "every_s": plan.schedule.every_s if plan.schedule else None,
            "timezone": plan.schedule.timezone if plan.schedule else None,
            "locations": list(plan.locations),
            "enabled": plan.enabled,
            "next_run": _iso(plan.next_run(now)),
        },
    }


def _counts_json(counts: RunCounts) -> dict[str, Any]:
    return {
        "runs": counts.total,
        "succeeded": counts.succeeded,
        "failures": counts.failures,
        "missed": counts.missed,
        "success_ratio": counts.success_ratio,
        "by_status": {status.value: n for status, n in sorted(counts.by_status.items())},
    }


def _check_json(check: CheckFacts) -> dict[str, Any]:
    return {
        "name": check.name,
        "ok": check.ok,
        "checked_at": check.checked_at.isoformat(),
        "latency_ms": check.latency_ms,
        "detail": check.detail,
        "data": check.data,
        "last_hour": {"total": check.last_hour.total, "failed": check.last_hour.failed},
    }


# -- helpers ----------------------------------------------------------------------------


def _grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    return grid


def _has_tables(view: StatusView) -> bool:
    db = view.facts.database
    return db.reachable and db.revision is not None


def _ok(counts: RunCounts) -> Text:
    ratio = counts.success_ratio
    if ratio is None:
        return Text("-")
    style = "green" if ratio >= 0.99 else "yellow" if ratio >= 0.9 else "red"
    return Text(percent(ratio), style=style)


def _failures(check: CheckFacts) -> Text:
    counts = check.last_hour
    text = f"{counts.failed} of {counts.total}"
    return Text(text, style="red" if counts.failed else "")


def _next(wf: WorkflowFacts, now: datetime) -> str:
    assert wf.plan is not None
    if not wf.plan.enabled:
        return "disabled"
    when = wf.plan.next_run(now)
    if when is None:
        return "-"
    return f"{clock_time(when, now)} ({ago(when, now)})"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
