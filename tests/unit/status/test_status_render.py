"""`wfmon status` output: the sections on a terminal, and the JSON for scripts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from rich.console import Console

from wfmon.domain.run import ExecutionStatus
from wfmon.domain.workflow import Schedule
from wfmon.status.assess import assess, recommend
from wfmon.status.facts import (
    CheckFacts,
    DatabaseFacts,
    HeartbeatFacts,
    RunFacts,
    StatusFacts,
    WorkflowFacts,
)
from wfmon.status.plans import WorkflowPlan
from wfmon.status.render import SECTIONS, StatusView, render, status_json
from wfmon.storage.stats import Percentiles, RunCounts

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
S, F = ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED


def view(facts: StatusFacts) -> StatusView:
    return StatusView(facts, assess(facts, NOW), recommend(facts, NOW), NOW)


def sample() -> StatusFacts:
    failing = tuple(
        RunFacts(NOW - timedelta(minutes=5 * i), F, "cart: got [bold]500[/bold]")
        for i in range(1, 4)
    )
    return StatusFacts(
        database=DatabaseFacts("postgresql://wfmon:***@db/wfmon", "postgresql", 3.2, "01", "01"),
        heartbeat=HeartbeatFacts(NOW - timedelta(minutes=2), "host-1", 42, "0.1.0", interval_s=300),
        checks=(
            CheckFacts("disk", False, NOW - timedelta(minutes=2), detail="200 MB free"),
            CheckFacts("heartbeat", True, NOW - timedelta(minutes=2)),
        ),
        workflows=(
            WorkflowFacts(
                name="[red]checkout",
                plan=WorkflowPlan("[red]checkout", Schedule(cron="*/15 * * * *"), created_at=NOW),
                last=failing[0],
                last_hour=RunCounts({S: 1, F: 3}),
                last_day=RunCounts({S: 90, F: 6}),
                duration=Percentiles(96, {50: 412.0, 95: 980.0}),
                recent=failing,
                last_slots={"local": NOW},
            ),
            WorkflowFacts(
                name="search",
                plan=WorkflowPlan("search", Schedule(every_s=600), created_at=NOW),
                recent=(RunFacts(NOW, S),),
                last_slots={"local": NOW},
            ),
        ),
    )


def test_every_section_is_shown_with_names_as_written() -> None:
    console = Console(record=True, width=200)

    render(console, view(sample()))

    text = console.export_text()
    for title, _ in SECTIONS:
        assert title in text
    # Names and errors are text, never markup: the brackets stay.
    assert "[red]checkout" in text
    assert "every 15 minutes" in text
    assert "06:15 UTC (in 15 min)" in text  # next run
    assert "postgresql://wfmon:***@db/wfmon" in text
    assert "DEGRADED (exit code 1)" in text
    assert "disk: 200 MB free" in text
    assert "412 ms" in text
    assert "980 ms" in text
    assert "25.0%" in text
    assert "93.8%" in text
    assert "got [bold]500[/bold]" in text
    assert "FAIL" in text


def test_sections_without_a_database_are_left_out() -> None:
    console = Console(record=True, width=200)
    facts = StatusFacts(DatabaseFacts("sqlite:///nowhere.db", error="unable to open"))

    render(console, view(facts))

    text = console.export_text()
    assert "unable to open" in text
    assert "DOWN (exit code 2)" in text
    assert "Workflow executions" not in text
    assert "Schedules" not in text


def test_the_json_carries_the_verdict_and_the_facts() -> None:
    data = status_json(view(sample()))

    assert json.loads(json.dumps(data)) == data  # plain JSON types only
    assert data["assessment"]["level"] == "DEGRADED"
    assert data["assessment"]["exit_code"] == 1
    assert {r["code"] for r in data["assessment"]["reasons"]} == {
        "check_failing",
        "workflow_failing",
    }
    checkout = data["workflows"][0]
    assert checkout["name"] == "[red]checkout"
    assert checkout["last_hour"]["runs"] == 4
    assert checkout["last_hour"]["success_ratio"] == 0.25
    assert checkout["schedule"]["words"] == "every 15 minutes"
    assert checkout["schedule"]["next_run"] == "2026-03-01T06:15:00+00:00"
    assert data["workflows"][1]["schedule"]["every_s"] == 600
    assert data["daemon"]["instance"] == "host-1"
    assert data["health_checks"][0]["ok"] is False
    assert data["recommendations"][0].startswith("disk: 200 MB free")
