"""The facts alert rules judge, read for many subjects at once (storage/alert_facts.py), on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alert_support import execution
from wfmon.alerts.facts import Needs
from wfmon.domain.run import ExecutionStatus
from wfmon.domain.workflow import Schedule, Workflow
from wfmon.storage import Database, ExecutionRepository
from wfmon.storage.alert_facts import AlertFactsRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def wf(name: str, locations: tuple[str, ...] = ("local",)) -> Workflow:
    return Workflow(name=name, steps=(), schedule=Schedule(cron="* * * * *"), locations=locations)


def minute(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


async def test_subjects_read_together_get_each_their_own_runs(db: Database) -> None:
    """Pass: five subjects read in one call (their statements share shapes and padding)
    each get exactly their runs, newest first: per location or across locations, the
    newest `count`, every run of the window when it holds more, the timings of the named
    steps only, and certificate days of the newest three runs; the newest failure says
    what failed."""
    repo = ExecutionRepository(db)
    results = []
    for n in range(6):
        for loc in ("eu", "us"):
            results.append(execution("multi", n % 2 == 0, minute(n), location=loc))
        results.append(execution("windowed", True, minute(n)))
        results.append(execution("timed", True, minute(n), step_ms={"login": 10.0 + n, "pay": 5}))
        results.append(execution("certs", True, minute(n), tls_days=30.0 - n))
    results.append(execution("multi", False, minute(7), location="us"))
    await repo.record_many(results)
    missed = ("windowed", "local", [minute(8)], minute(9))
    await repo.record_missed(*missed)  # not a run: never among the facts

    wanted = [
        (wf("multi", ("eu", "us")), "eu", Needs(count=3)),
        (wf("multi", ("eu", "us")), None, Needs(count=4)),
        (wf("windowed"), None, Needs(count=2, window_s=3600)),
        (wf("timed"), None, Needs(count=2, steps=frozenset({"login"}))),
        (wf("certs"), None, Needs(count=5, tls=True)),
    ]
    eu, both, windowed, timed, certs = await AlertFactsRepository(db).subjects(wanted, minute(10))

    assert [r.started_at for r in eu.runs] == [minute(5), minute(4), minute(3)]
    assert [r.status for r in eu.runs] == [
        ExecutionStatus.FAILED,
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
    ]
    assert [r.started_at for r in both.runs][:3] == [minute(7), minute(5), minute(5)]
    assert len(both.runs) == 4
    assert both.failure is not None
    assert both.failure.step == "login"
    assert both.failure.actual == 503
    assert [r.started_at for r in windowed.runs] == [minute(n) for n in range(5, -1, -1)]
    assert [dict(r.step_ms) for r in timed.runs] == [{"login": 15.0}, {"login": 14.0}]
    assert [dict(r.tls_days) for r in certs.runs] == [
        {"cert": 25.0},
        {"cert": 26.0},
        {"cert": 27.0},
        {},
        {},
    ]


async def test_more_subjects_than_one_statement_holds_each_get_their_runs(db: Database) -> None:
    """Pass: 150 subjects (more than one statement's 64, the last chunk padded) each get
    exactly their own two runs, with and without a window."""
    repo = ExecutionRepository(db)
    names = [f"w{i:03d}" for i in range(150)]
    await repo.record_many(
        [execution(name, i % 3 != 0, minute(n)) for i, name in enumerate(names) for n in (1, 2)]
    )
    wanted = [
        (wf(name), None, Needs(count=2, window_s=3600 if i % 2 else 0.0))
        for i, name in enumerate(names)
    ]

    facts = await AlertFactsRepository(db).subjects(wanted, minute(10))

    assert [f.workflow.name for f in facts] == names
    assert all([r.started_at for r in f.runs] == [minute(2), minute(1)] for f in facts)
    assert [f.runs[0].status is ExecutionStatus.FAILED for f in facts] == [
        i % 3 == 0 for i in range(150)
    ]
    ids = [r.id for f in facts for r in f.runs]
    assert len(ids) == len(set(ids)) == 300
