"""Schedules read back from stored workflows, and the words `wfmon status` uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wfmon.domain.workflow import Schedule, Workflow
from wfmon.status.plans import (
    WorkflowPlan,
    plan_from_record,
    plans_for,
    schedule_from_definition,
)
from wfmon.status.words import ago, clock_time, duration_words, millis, percent
from wfmon.storage.records import WorkflowRecord

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

SCHEDULES = [
    # (id, definition's schedule, the stored `schedule` column, expected)
    ("cron as text", "*/15 * * * *", "", Schedule(cron="*/15 * * * *")),
    ("an interval with a unit", {"every": "5m"}, "", Schedule(every_s=300.0)),
    (
        "cron in a zone",
        {"cron": "30 2 * * *", "timezone": "Europe/Berlin"},
        "",
        Schedule(cron="30 2 * * *", timezone="Europe/Berlin"),
    ),
    # Definitions written before a schema change: the column text is the fallback.
    ("column text, interval", None, "every 300s", Schedule(every_s=300.0)),
    (
        "column text, cron",
        {"every": "not a duration"},
        "cron 0 * * * * (Europe/Berlin)",
        Schedule(cron="0 * * * *", timezone="Europe/Berlin"),
    ),
    ("nothing readable", None, "whenever", None),
]


@pytest.mark.parametrize(
    ("case", "written", "column", "expected"), SCHEDULES, ids=[c[0] for c in SCHEDULES]
)
def test_it_reads_schedules_back(
    case: str, written: Any, column: str, expected: Schedule | None
) -> None:
    definition = {} if written is None else {"schedule": written}

    assert schedule_from_definition(definition, column) == expected


def record(name: str = "checkout", **definition: Any) -> WorkflowRecord:
    return WorkflowRecord(
        id=1,
        name=name,
        version="v1",
        definition={"schedule": "*/5 * * * *", **definition},
        schedule="cron */5 * * * * (UTC)",
        tags=(),
        enabled=True,
        source="wfmon.yaml:3",
        created_at=T0,
        updated_at=T0,
        removed_at=None,
    )


LOCATIONS = [
    # (id, definition, locations seen in executions, expected)
    ("from the definition", {"locations": ["eu", "us"]}, {"local"}, ("eu", "us")),
    ("from the executions (a default)", {}, {"us", "eu"}, ("eu", "us")),
    ("the default default", {}, set(), ("local",)),
]


@pytest.mark.parametrize(
    ("case", "definition", "seen", "expected"), LOCATIONS, ids=[c[0] for c in LOCATIONS]
)
def test_it_finds_where_a_stored_workflow_runs(
    case: str, definition: dict[str, Any], seen: set[str], expected: tuple[str, ...]
) -> None:
    assert plan_from_record(record(**definition), seen).locations == expected


def test_a_config_wins_over_the_stored_plans_but_keeps_their_creation_time() -> None:
    stored = [record("checkout"), record("search")]
    configured = [
        Workflow(name="checkout", steps=(), schedule=Schedule(every_s=60), locations=("a", "b"))
    ]

    from_db = plans_for(stored, {("search", "x"): T0})
    from_config = plans_for(stored, {}, configured)

    assert sorted(from_db) == ["checkout", "search"]
    assert from_db["search"].locations == ("x",)
    assert list(from_config) == ["checkout"]
    assert from_config["checkout"].schedule == Schedule(every_s=60)
    assert from_config["checkout"].locations == ("a", "b")
    assert from_config["checkout"].created_at == T0


def test_next_run_includes_the_workflows_jitter() -> None:
    plain = WorkflowPlan("checkout", Schedule(every_s=600))
    jittered = WorkflowPlan("checkout", Schedule(every_s=600), jitter_s=60)
    disabled = WorkflowPlan("checkout", Schedule(every_s=600), enabled=False)

    assert plain.next_run(T0) == T0 + timedelta(minutes=10)
    nxt = jittered.next_run(T0)
    assert nxt is not None
    assert T0 + timedelta(minutes=10) <= nxt < T0 + timedelta(minutes=11)
    assert disabled.next_run(T0) is None
    assert plain.words == "every 10 minutes"
    assert WorkflowPlan("x", None).words == "unknown schedule"


WORDS = [
    (duration_words(45), "45 s"),
    (duration_words(12 * 60 + 59), "12 min"),
    (duration_words(3 * 3600), "3 h"),
    (duration_words(3 * 3600 + 5 * 60), "3 h 5 min"),
    (duration_words(2 * 86400 + 4 * 3600 + 59), "2 d 4 h"),
    (duration_words(-5), "0 s"),
    (ago(T0 - timedelta(minutes=12), T0), "12 min ago"),
    (ago(T0 + timedelta(minutes=3), T0), "in 3 min"),
    (clock_time(T0 - timedelta(hours=7), T0), "05:00 UTC"),
    (clock_time(T0 - timedelta(hours=13), T0), "2026-02-28 23:00 UTC"),
    (percent(0.99512), "99.5%"),
    (percent(None), "-"),
    (millis(850.4), "850 ms"),
    (millis(1250), "1.2 s"),
    (millis(None), "-"),
]


@pytest.mark.parametrize(("got", "expected"), WORDS)
def test_times_and_sizes_read_at_a_glance(got: str, expected: str) -> None:
    assert got == expected
