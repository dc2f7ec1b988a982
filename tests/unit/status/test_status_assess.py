"""assess() and recommend(): the verdict of `wfmon status` from hand-built facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wfmon.domain.run import ExecutionStatus
from wfmon.domain.workflow import Schedule
from wfmon.status.assess import Level, Thresholds, assess, failure_spell, recommend
from wfmon.status.facts import (
    CheckFacts,
    DatabaseFacts,
    HeartbeatFacts,
    RunFacts,
    StatusFacts,
    WorkflowFacts,
)
from wfmon.status.plans import WorkflowPlan
from wfmon.storage.stats import RunCounts

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
S, F, E = ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.ERROR
EVERY_5_MIN = Schedule(cron="*/5 * * * *")


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def runs(
    *statuses: ExecutionStatus, every_min: float = 5, error: str = "boom"
) -> tuple[RunFacts, ...]:
    """Runs newest first, `every_min` apart, the newest one `every_min` ago."""
    return tuple(
        RunFacts(
            started_at=ago(every_min * (i + 1)),
            status=status,
            error=None if status is S else error,
        )
        for i, status in enumerate(statuses)
    )


def workflow(name: str = "checkout", *recent: ExecutionStatus, **changes: Any) -> WorkflowFacts:
    """A workflow on */5 at `local`, created a day ago, whose latest slot ran on time."""
    plan = WorkflowPlan(name, EVERY_5_MIN, ("local",), created_at=NOW - timedelta(days=1))
    fields: dict[str, Any] = {
        "name": name,
        "plan": plan,
        "recent": runs(*(recent or (S, S, S))),
        "last_slots": {"local": ago(0)},
    }
    fields.update(changes)
    return WorkflowFacts(**fields)


def check(name: str, ok: bool = True, minutes_ago: float = 1, **changes: Any) -> CheckFacts:
    return CheckFacts(name=name, ok=ok, checked_at=ago(minutes_ago), **changes)


def facts(**changes: Any) -> StatusFacts:
    """All green: a fresh heartbeat, passing checks, one healthy workflow."""
    fields: dict[str, Any] = {
        "database": DatabaseFacts("sqlite:///wfmon.db", "sqlite", 2.0, "0001", "0001"),
        "heartbeat": HeartbeatFacts(checked_at=ago(1), instance="host-1", pid=42),
        "checks": (
            check("database", latency_ms=1.5),
            check("disk", detail="9,000 MB free (60%) at .wfmon"),
            check("heartbeat"),
        ),
        "workflows": (workflow(),),
    }
    fields.update(changes)
    return StatusFacts(**fields)


def beat(minutes_ago: float, **changes: Any) -> HeartbeatFacts:
    return HeartbeatFacts(checked_at=ago(minutes_ago), instance="host-1", pid=42, **changes)


CASES = [
    # (id, facts, level, reason codes)
    ("all green", facts(), Level.HEALTHY, ["all_green"]),
    # The daemon never ran here: nothing else can be trusted.
    ("heartbeat missing", facts(heartbeat=None), Level.UNKNOWN, ["no_heartbeat"]),
    (
        "heartbeat missing outranks a failing workflow",
        facts(heartbeat=None, workflows=(workflow("a", F, F, F), workflow("b"))),
        Level.UNKNOWN,
        ["no_heartbeat", "workflow_failing"],
    ),
    # Stale means older than 2 x the interval (300 s by default): 10 min is still fresh.
    ("heartbeat 10 min old is fresh", facts(heartbeat=beat(10)), Level.HEALTHY, ["all_green"]),
    ("heartbeat 11 min old is stale", facts(heartbeat=beat(11)), Level.DOWN, ["heartbeat_stale"]),
    (
        "stale by the interval the daemon stored (60 s)",
        facts(heartbeat=beat(3, interval_s=60.0)),
        Level.DOWN,
        ["heartbeat_stale"],
    ),
    (
        "fresh by a longer configured interval",
        facts(heartbeat=beat(30), default_interval_s=900.0),
        Level.HEALTHY,
        ["all_green"],
    ),
    (
        "a stale failing disk check is no reason of its own",
        facts(heartbeat=beat(30), checks=(check("disk", ok=False, minutes_ago=30),)),
        Level.DOWN,
        ["heartbeat_stale"],
    ),
    # Workflows failing repeatedly.
    (
        "three failures in a row",
        facts(workflows=(workflow("a", F, E, F, S), workflow("b"))),
        Level.DEGRADED,
        ["workflow_failing"],
    ),
    (
        "two failures in a row are not yet a pattern",
        facts(workflows=(workflow("a", F, F, S, S, S, S), workflow("b"))),
        Level.HEALTHY,
        ["all_green"],
    ),
    (
        "flapping: half of the recent runs failed",
        facts(workflows=(workflow("a", S, F, S, F, S, F), workflow("b"))),
        Level.DEGRADED,
        ["workflow_failing"],
    ),
    (
        "every workflow failing: the target is down",
        facts(workflows=(workflow("a", F, F, F), workflow("b", E, E, E))),
        Level.DOWN,
        ["all_failing", "workflow_failing", "workflow_failing"],
    ),
    (
        "a disabled workflow is not judged",
        facts(
            workflows=(
                workflow("a", F, F, F, plan=WorkflowPlan("a", EVERY_5_MIN, enabled=False)),
                workflow("b"),
            )
        ),
        Level.HEALTHY,
        ["all_green"],
    ),
    (
        "a workflow removed from the config is not judged",
        facts(workflows=(workflow("gone", F, F, F, plan=None), workflow("b"))),
        Level.HEALTHY,
        ["all_green"],
    ),
    # The database.
    (
        "database slow, measured now",
        facts(database=DatabaseFacts("sqlite:///x", "sqlite", 850.0, "0001", "0001")),
        Level.DEGRADED,
        ["database_slow"],
    ),
    (
        "database slow, by the daemon's own check",
        facts(checks=(check("database", latency_ms=900.0), check("heartbeat"))),
        Level.DEGRADED,
        ["database_slow"],
    ),
    (
        "database unreachable",
        facts(database=DatabaseFacts("postgresql://u:***@db/wfmon", error="connection refused")),
        Level.DOWN,
        ["database_unreachable"],
    ),
    (
        "database without wfmon tables",
        facts(database=DatabaseFacts("sqlite:///x", "sqlite", 1.0, None, "0001")),
        Level.UNKNOWN,
        ["database_empty"],
    ),
    # Self health checks.
    (
        "disk low",
        facts(checks=(check("disk", ok=False, data={"free_mb": 200.0}), check("heartbeat"))),
        Level.DEGRADED,
        ["check_failing"],
    ),
    # Executions missed or overdue.
    (
        "slots missed in the last hour",
        facts(workflows=(workflow(last_hour=RunCounts({S: 9, ExecutionStatus.MISSED: 3})),)),
        Level.DEGRADED,
        ["runs_missed"],
    ),
    (
        "no execution for the slots of the last 30 min",
        facts(workflows=(workflow(last_slots={"local": ago(30)}),)),
        Level.DEGRADED,
        ["workflow_overdue"],
    ),
    (
        "a slot within the grace is not overdue yet",
        facts(workflows=(workflow(last_slots={"local": ago(5)}),)),
        Level.HEALTHY,
        ["all_green"],
    ),
    (
        "a workflow added after its last slot is not overdue",
        facts(
            workflows=(
                workflow(
                    last_slots={},
                    plan=WorkflowPlan("checkout", EVERY_5_MIN, created_at=ago(4)),
                ),
            )
        ),
        Level.HEALTHY,
        ["all_green"],
    ),
    (
        "one of two locations behind",
        facts(
            workflows=(
                workflow(
                    plan=WorkflowPlan(
                        "checkout", EVERY_5_MIN, ("eu", "us"), created_at=ago(24 * 60)
                    ),
                    last_slots={"eu": ago(0), "us": ago(60)},
                ),
            )
        ),
        Level.DEGRADED,
        ["workflow_overdue"],
    ),
    (
        "overdue is not judged while the daemon is down",
        facts(heartbeat=beat(60), workflows=(workflow(last_slots={"local": ago(60)}),)),
        Level.DOWN,
        ["heartbeat_stale"],
    ),
]


@pytest.mark.parametrize(("case", "given", "level", "codes"), CASES, ids=[c[0] for c in CASES])
def test_it_assesses_the_facts(
    case: str, given: StatusFacts, level: Level, codes: list[str]
) -> None:
    verdict = assess(given, NOW)

    assert verdict.level is level
    assert [r.code for r in verdict.reasons] == codes
    assert verdict.exit_code == {"HEALTHY": 0, "DEGRADED": 1, "DOWN": 2, "UNKNOWN": 3}[level]


def test_reasons_name_what_they_are_about() -> None:
    verdict = assess(facts(workflows=(workflow("registration", F, F, F), workflow("b"))), NOW)

    assert [(r.subject, r.message) for r in verdict.reasons] == [
        ("registration", "registration: failed its last 3 runs, since 05:45 UTC"),
    ]


ADVICE = [
    # (id, facts, a line recommend() must give, as a prefix)
    ("all green", facts(), None),
    (
        "stale heartbeat",
        facts(heartbeat=beat(12)),
        "no heartbeat for 12 min: is `wfmon run` running? The last one came at 05:48 UTC "
        "from instance host-1, pid 42",
    ),
    (
        "never ran",
        facts(heartbeat=None),
        "no heartbeat recorded: start the daemon with `wfmon run` (it records one every 5 min)",
    ),
    (
        "failing repeatedly",
        facts(
            workflows=(
                workflow(
                    "registration",
                    recent=runs(F, F, F, S, F, F, S, S, S, S, every_min=10, error="signup: 500"),
                ),
            )
        ),
        "registration failed 5 of the last 6 runs since 05:00 UTC: last error signup: 500; "
        "see `wfmon executions --workflow registration`",
    ),
    (
        "a name is quoted for the shell",
        facts(workflows=(workflow("log in; rm -rf", F, F, F),)),
        "log in; rm -rf failed its last 3 runs, since 05:45 UTC: last error boom; "
        "see `wfmon executions --workflow 'log in; rm -rf'`",
    ),
    (
        "database slow",
        facts(database=DatabaseFacts("sqlite:///x", "sqlite", 850.0, "0001", "0001")),
        "database latency 850 ms: ",
    ),
    (
        "disk low",
        facts(checks=(check("disk", ok=False, data={"free_mb": 200.0, "path": "/var/lib/wfmon"}),)),
        "disk: 200 MB free at /var/lib/wfmon: ",
    ),
    (
        "disk low when the daemon stopped",
        facts(
            heartbeat=beat(30),
            checks=(check("disk", ok=False, minutes_ago=30, data={"free_mb": 10}),),
        ),
        "disk: 10 MB free: prune old reports and logs, shorten retention, or grow the volume "
        "(as of 05:30 UTC)",
    ),
    (
        "missed",
        facts(workflows=(workflow(last_hour=RunCounts({ExecutionStatus.MISSED: 2})),)),
        "checkout missed 2 slots in the last hour: ",
    ),
    (
        "overdue",
        facts(workflows=(workflow(last_slots={"local": ago(30)}),)),
        "checkout has not run the slot due at 05:55 UTC (last slot 05:30 UTC) although the "
        "daemon is alive",
    ),
    (
        "in the config but not loaded",
        facts(workflows=(workflow(plan=WorkflowPlan("checkout", EVERY_5_MIN)),)),
        "checkout is in the config but not in the database",
    ),
    (
        "migration behind",
        facts(database=DatabaseFacts("sqlite:///x", "sqlite", 1.0, "0001", "0002")),
        "the database is at migration 0001, this wfmon ships 0002: run `wfmon db upgrade`",
    ),
    (
        "unreachable",
        facts(database=DatabaseFacts("postgresql://u:***@db/w", error="refused")),
        "the database at postgresql://u:***@db/w cannot be read",
    ),
]


@pytest.mark.parametrize(("case", "given", "expected"), ADVICE, ids=[c[0] for c in ADVICE])
def test_it_recommends_what_to_do(case: str, given: StatusFacts, expected: str | None) -> None:
    advice = recommend(given, NOW)

    if expected is None:
        assert advice == []
    else:
        assert any(line.startswith(expected) for line in advice), advice


def test_recommendations_come_most_urgent_first() -> None:
    given = facts(
        heartbeat=beat(30),
        database=DatabaseFacts("sqlite:///x", "sqlite", 900.0, "0001", "0001"),
        workflows=(workflow("a", F, F, F),),
    )

    advice = recommend(given, NOW)

    assert [line.split(" ")[0] for line in advice] == ["database", "no", "a", "every"]


SPELLS = [
    # (id, recent newest first, (failed, runs, streak) or None)
    ("no runs", (), None),
    ("all ok", (S, S, S), None),
    ("a streak of three", (F, F, F), (3, 3, 3)),
    ("a streak after successes", (F, F, F, S, S, S, S, S, S, S), (3, 3, 3)),
    ("the example: 5 of the last 6", (F, F, F, S, F, F, S, S, S, S), (5, 6, 3)),
    ("flapping, latest ok", (S, F, S, F, S, F), (3, 6, 0)),
    ("two failures only", (F, F, S, S, S, S, S, S, S, S), None),
    ("three failures in ten, spread out", (F, S, S, F, S, S, F, S, S, S), None),
]


@pytest.mark.parametrize(("case", "statuses", "expected"), SPELLS, ids=[c[0] for c in SPELLS])
def test_a_failure_spell_is_a_streak_or_a_high_share(
    case: str, statuses: tuple[ExecutionStatus, ...], expected: tuple[int, int, int] | None
) -> None:
    spell = failure_spell(runs(*statuses), Thresholds())

    if expected is None:
        assert spell is None
    else:
        assert spell is not None
        assert (spell.failed, spell.runs, spell.streak) == expected
        assert spell.since == runs(*statuses)[expected[1] - 1].started_at


def test_thresholds_are_parameters() -> None:
    slow = facts(database=DatabaseFacts("sqlite:///x", "sqlite", 300.0, "0001", "0001"))

    assert assess(slow, NOW).level is Level.HEALTHY
    assert assess(slow, NOW, replace(Thresholds(), slow_database_ms=250.0)).level is Level.DEGRADED
