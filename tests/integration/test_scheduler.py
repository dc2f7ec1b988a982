"""The scheduler against a real database (SQLite and PostgreSQL), driven by a fake clock.

Each test states its pass criterion; time only moves when the test moves it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from support import WorkflowsFromText
from wfmon.clock import FakeClock
from wfmon.domain.run import ExecutionStatus
from wfmon.domain.workflow import Workflow
from wfmon.httpclient import HttpClientFactory
from wfmon.runner.engine import Engine
from wfmon.scheduler.scheduler import OVERLAP_REASON, Scheduler, SchedulerOptions
from wfmon.storage import Database, ExecutionRepository

STEPS_PY = """
import asyncio

RUNS = []

async def ok(api):
    return {"ok": True}

async def count(api):
    RUNS.append(1)
    return {"ok": True}

async def boom(api):
    raise RuntimeError("always broken")

async def wait(api):
    await asyncio.Event().wait()  # hangs until cancelled
"""


@pytest.fixture
def steps_module(tmp_path: Path) -> str:
    name = f"sched_steps_{abs(hash(tmp_path)) % 10**8}"
    (tmp_path / f"{name}.py").write_text(STEPS_PY)
    return name


def config(module: str, *workflows: tuple[str, str, str]) -> str:
    """(name, schedule YAML, function) -> a config text."""
    out = "workflows:\n"
    for name, schedule, fn in workflows:
        out += (
            f"  - name: {name}\n    schedule: {schedule}\n"
            f"    steps: [{{name: s, type: python, function: '{module}:{fn}'}}]\n"
        )
    return out


def make_scheduler(
    db: Database, clock: FakeClock, instance: str = "test", max_concurrency: int = 64
) -> Scheduler:
    engine = Engine(http=HttpClientFactory(clock=clock), clock=clock)
    return Scheduler(
        engine=engine,
        executions=ExecutionRepository(db),
        clock=clock,
        options=SchedulerOptions(instance=instance, grace_s=0.0, max_concurrency=max_concurrency),
    )


async def run_minutes(
    scheduler: Scheduler, clock: FakeClock, minutes: int, step_s: float = 60.0
) -> None:
    """Advance the clock in steps, ticking and waiting for the runs at each step."""
    for _ in range(int(minutes * 60 / step_s)):
        clock.advance(step_s)
        await scheduler.tick(clock.now())
        await scheduler.drain()


async def slots(db: Database, workflow: str | None = None) -> list[tuple[datetime, str]]:
    rows = await ExecutionRepository(db).list(workflow=workflow, limit=10_000)
    return sorted((r.slot_at, r.status) for r in rows)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def test_every_slot_runs_once_on_time(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    clock = FakeClock(at("2026-03-01T10:00:30"))
    wfs = workflows_from(
        config(
            steps_module, ("every-minute", "'* * * * *'", "ok"), ("quarter", "'*/15 * * * *'", "ok")
        )
    )
    scheduler = make_scheduler(db, clock)
    await scheduler.load(wfs, clock.now())
    await scheduler.tick(clock.now())
    await scheduler.drain()
    await run_minutes(scheduler, clock, 60)
    minute = await slots(db, "every-minute")
    # 10:00 (the latest slot at start) and then 10:01 ... 11:00: 61 slots, each once.
    assert len(minute) == 61
    assert len({s for s, _ in minute}) == 61
    assert {st for _, st in minute} == {"succeeded"}
    assert [s for s, _ in await slots(db, "quarter")] == [
        at("2026-03-01T10:00"),
        at("2026-03-01T10:15"),
        at("2026-03-01T10:30"),
        at("2026-03-01T10:45"),
        at("2026-03-01T11:00"),
    ]
    assert scheduler.stats.missed == 0
    assert max(scheduler.stats.lags_s) < 60.0  # started within the tick of its minute


async def test_downtime_catches_up_once_and_records_the_rest_missed(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    wfs = workflows_from(config(steps_module, ("w", "'*/1 * * * *'", "ok")))
    clock = FakeClock(at("2026-03-01T10:00:10"))
    first = make_scheduler(db, clock)
    await first.load(wfs, clock.now())
    await first.tick(clock.now())
    await first.drain()
    # Down for 7 minutes: a new scheduler starts at 10:07:10.
    clock.advance(7 * 60)
    second = make_scheduler(db, clock)
    await second.load(wfs, clock.now())
    await second.tick(clock.now())
    await second.drain()
    rows = await slots(db)
    assert Counter(st for _, st in rows) == {"succeeded": 2, "missed": 6}
    assert rows[-1] == (at("2026-03-01T10:07"), "succeeded")  # the most recent slot ran
    assert [s for s, st in rows if st == "missed"] == [
        at(f"2026-03-01T10:0{m}") for m in range(1, 7)
    ]
    latest = (await ExecutionRepository(db).list(status=ExecutionStatus.SUCCEEDED, limit=1))[0]
    assert latest.trigger == "catch-up"  # 10:07 was due before the restart: not lag


async def test_a_restart_never_runs_a_slot_twice(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    wfs = workflows_from(config(steps_module, ("w", "'*/5 * * * *'", "ok")))
    clock = FakeClock(at("2026-03-01T10:00:00"))
    for _ in range(3):  # three lives in the same minute
        s = make_scheduler(db, clock)
        await s.load(wfs, clock.now())
        await s.tick(clock.now())
        await s.drain()
    assert await slots(db) == [(at("2026-03-01T10:00"), "succeeded")]


async def test_two_schedulers_on_one_database_claim_each_slot_once(
    db: Database, database_url: str, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    from wfmon.storage import open_database

    wfs = workflows_from(config(steps_module, *[(f"w{i}", "'* * * * *'", "ok") for i in range(5)]))
    clock = FakeClock(at("2026-03-01T10:00:05"))
    # Two connection pools, as two daemons would have (`db` has emptied the tables).
    db_a, db_b = db, await open_database(database_url)
    try:
        a, b = make_scheduler(db_a, clock, "a"), make_scheduler(db_b, clock, "b")
        await a.load(wfs, clock.now())
        await b.load(wfs, clock.now())
        for _ in range(10):
            await a.tick(clock.now())
            await b.tick(clock.now())
            await a.drain()
            await b.drain()
            clock.advance(60)
        rows = await slots(db_a)
        per_slot = Counter((s) for s, _ in rows)
        assert len(rows) == 5 * 10
        assert set(per_slot.values()) == {5}  # each minute: five workflows, once each
        assert a.stats.claimed + b.stats.claimed == 50
        assert a.stats.duplicates + b.stats.duplicates == 50
    finally:
        await db_b.dispose()


async def test_a_step_that_always_raises_is_an_error_and_others_carry_on(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    wfs = workflows_from(
        config(steps_module, ("broken", "'* * * * *'", "boom"), ("fine", "'* * * * *'", "ok"))
    )
    clock = FakeClock(at("2026-03-01T10:00:00"))
    scheduler = make_scheduler(db, clock)
    await scheduler.load(wfs, clock.now())
    await scheduler.tick(clock.now())
    await scheduler.drain()
    await run_minutes(scheduler, clock, 5)
    assert {st for _, st in await slots(db, "broken")} == {"error"}
    assert len(await slots(db, "broken")) == 6
    assert {st for _, st in await slots(db, "fine")} == {"succeeded"}
    assert len(await slots(db, "fine")) == 6
    detail = await ExecutionRepository(db).list(workflow="broken", limit=1)
    assert detail[0].error == "s: RuntimeError: always broken"


async def test_a_workflow_never_overlaps_itself(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    # A run that hangs past its next slot: that slot is recorded missed, not run twice.
    wfs = workflows_from(config(steps_module, ("hang", "'* * * * *'", "wait")))
    clock = FakeClock(at("2026-03-01T10:00:00"))
    scheduler = make_scheduler(db, clock)
    await scheduler.load(wfs, clock.now())
    await scheduler.tick(clock.now())
    clock.advance(60)
    await scheduler.tick(clock.now())
    async with asyncio.timeout(10):  # a condition, polled: the hung run never finishes
        while scheduler.stats.missed == 0 or scheduler.stats.claimed == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    rows = await ExecutionRepository(db).list(limit=10)
    by_slot = {r.slot_at: r for r in rows}
    assert by_slot[at("2026-03-01T10:00")].status == "running"
    assert by_slot[at("2026-03-01T10:01")].status == "missed"
    assert by_slot[at("2026-03-01T10:01")].error == OVERLAP_REASON
    assert await scheduler.shutdown() == 1
    assert (await ExecutionRepository(db).get(by_slot[at("2026-03-01T10:00")].id)).status == (  # type: ignore[union-attr]
        "cancelled"
    )


def berlin_days(rows: Sequence[tuple[datetime, str]]) -> Counter[str]:
    from zoneinfo import ZoneInfo

    return Counter(s.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat() for s, _ in rows)


@pytest.mark.parametrize(
    ("start", "days"),
    [
        ("2026-03-27T12:00", ["2026-03-28", "2026-03-29", "2026-03-30"]),  # spring forward
        ("2026-10-23T12:00", ["2026-10-24", "2026-10-25", "2026-10-26"]),  # fall back
    ],
)
async def test_dst_days_run_a_daily_job_once(
    db: Database,
    workflows_from: WorkflowsFromText,
    steps_module: str,
    start: str,
    days: list[str],
) -> None:
    wfs = workflows_from(
        config(steps_module, ("nightly", "{cron: '30 2 * * *', timezone: Europe/Berlin}", "ok"))
    )
    clock = FakeClock(at(start))
    scheduler = make_scheduler(db, clock)
    await scheduler.load(wfs, clock.now())
    await run_minutes(scheduler, clock, 3 * 24 * 60, step_s=300)
    rows = await slots(db)
    per_day = berlin_days(rows)
    for day in days:
        assert per_day[day] == 1, (day, rows)
    assert len(rows) == len(set(rows))


async def test_clock_jumps_run_each_slot_once(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    wfs = workflows_from(config(steps_module, ("w", "'*/10 * * * *'", "ok")))
    clock = FakeClock(at("2026-03-01T10:00:00"))
    scheduler = make_scheduler(db, clock)
    await scheduler.load(wfs, clock.now())
    await run_minutes(scheduler, clock, 30)  # 10:00 .. 10:30
    clock.set(at("2026-03-01T09:00:00"))  # NTP steps the clock back an hour
    await run_minutes(scheduler, clock, 95)  # back to 10:35: nothing re-runs
    clock.set(at("2026-03-01T12:00:00"))  # and forward past several slots
    await scheduler.tick(clock.now())
    await scheduler.drain()
    rows = await slots(db)
    assert len(rows) == len({s for s, _ in rows})  # no slot twice
    ran = [s for s, st in rows if st == "succeeded"]
    assert ran[:4] == [at(f"2026-03-01T10:{m}0") for m in range(4)]
    assert ran[-1] == at("2026-03-01T12:00")  # after the jump: the latest slot runs
    missed = [s for s, st in rows if st == "missed"]
    assert missed[0] == at("2026-03-01T10:40")
    assert missed[-1] == at("2026-03-01T11:50")


async def test_reload_adds_changes_and_removes(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    clock = FakeClock(at("2026-03-01T10:00:00"))
    scheduler = make_scheduler(db, clock)
    await scheduler.load(
        workflows_from(
            config(steps_module, ("a", "'* * * * *'", "ok"), ("b", "'* * * * *'", "ok"))
        ),
        clock.now(),
    )
    new: list[Workflow] = workflows_from(
        config(steps_module, ("a", "'*/5 * * * *'", "ok"), ("c", "'* * * * *'", "ok")),
        name="second.yaml",
    )
    added, changed, removed = scheduler.set_workflows(new, clock.now())
    assert (added, changed, removed) == (["c"], ["a"], ["b"])
    assert {k[0] for k in scheduler.plans} == {"a", "c"}


async def test_a_late_first_tick_accounts_for_every_slot_of_a_new_plan(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    """Pass: a workflow added by a reload at 09:00:30 whose first tick comes at 09:02:05
    deals with both 09:01 and 09:02 (one run, one missed by the default catch-up: one);
    no slot between the reload and the tick is dropped."""
    clock = FakeClock(at("2026-03-01T09:00:00"))
    scheduler = make_scheduler(db, clock)
    await scheduler.load(
        workflows_from(config(steps_module, ("a", "'*/5 * * * *'", "ok"))), clock.now()
    )
    clock.advance(30)
    wfs = workflows_from(
        config(steps_module, ("a", "'*/5 * * * *'", "ok"), ("b", "'* * * * *'", "ok")),
        name="second.yaml",
    )
    assert scheduler.set_workflows(wfs, clock.now())[0] == ["b"]
    clock.advance(95)  # 09:02:05: the loop was busy through 09:01
    await scheduler.tick(clock.now())
    await scheduler.drain()
    assert await slots(db, "b") == [
        (at("2026-03-01T09:01"), "missed"),
        (at("2026-03-01T09:02"), "succeeded"),
    ]


async def test_a_new_workflow_at_start_runs_only_its_latest_slot(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    """Pass: a workflow that never ran, loaded at 09:07:10 with a */1 schedule, runs 09:07
    and nothing before it (there is no history to catch up on)."""
    clock = FakeClock(at("2026-03-01T09:07:10"))
    scheduler = make_scheduler(db, clock)
    await scheduler.load(
        workflows_from(config(steps_module, ("n", "'* * * * *'", "ok"))), clock.now()
    )
    await scheduler.tick(clock.now())
    await scheduler.drain()
    assert await slots(db) == [(at("2026-03-01T09:07"), "succeeded")]


async def test_batched_claims_of_two_schedulers_never_run_a_slot_twice(
    db: Database, database_url: str, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    """Pass: two schedulers with their own connection pools tick the same 40 workflows at
    the same moments and drain together, so their claim batches race; over 5 minutes every
    slot has exactly one row, the step ran exactly once per row, and every slot was claimed
    by exactly one of them (the other counted a duplicate)."""
    import importlib

    from wfmon.storage import open_database

    names = [(f"w{i:02d}", "'* * * * *'", "count") for i in range(40)]
    wfs = workflows_from(config(steps_module, *names))
    runs = importlib.import_module(steps_module).RUNS
    clock = FakeClock(at("2026-03-01T10:00:05"))
    db_b = await open_database(database_url)
    try:
        a, b = make_scheduler(db, clock, "a"), make_scheduler(db_b, clock, "b")
        await a.load(wfs, clock.now())
        await b.load(wfs, clock.now())
        for _ in range(5):
            await asyncio.gather(a.tick(clock.now()), b.tick(clock.now()))
            await asyncio.gather(a.drain(), b.drain())
            clock.advance(60)
        rows = await slots(db)
        assert len(rows) == 40 * 5
        assert len({(s, st) for s, st in rows}) == 5
        assert {st for _, st in rows} == {"succeeded"}
        per_slot = Counter(s for s, _ in rows)
        assert set(per_slot.values()) == {40}
        assert len(runs) == 200  # the step itself: once per slot, never twice
        assert a.stats.claimed + b.stats.claimed == 200
        assert a.stats.duplicates + b.stats.duplicates == 200
        claimers = Counter(r.claimed_by for r in await ExecutionRepository(db).list(limit=500))
        assert sum(claimers.values()) == 200
        assert set(claimers) <= {"a", "b"}
    finally:
        await db_b.dispose()


async def test_slots_due_in_one_tick_are_claimed_and_finished_in_one_transaction_each(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    """Pass: 30 workflows due at the same tick are claimed by one write (one batch of 30)
    and their outcomes recorded by one more; every row ends `succeeded` with its step."""
    wfs = workflows_from(config(steps_module, *[(f"w{i}", "'* * * * *'", "ok") for i in range(30)]))
    clock = FakeClock(at("2026-03-01T10:00:00"))
    scheduler = make_scheduler(db, clock)
    await scheduler.load(wfs, clock.now())
    await scheduler.tick(clock.now())
    await scheduler.drain()
    assert (scheduler._claims.batches, scheduler._claims.written) == (1, 30)
    assert (scheduler._finishes.batches, scheduler._finishes.written) == (1, 30)
    rows = await ExecutionRepository(db).list(limit=100)
    assert len(rows) == 30
    assert {r.status for r in rows} == {ExecutionStatus.SUCCEEDED}
    detail = await ExecutionRepository(db).get(rows[0].id)
    assert detail is not None
    assert [s.name for s in detail.steps] == ["s"]


async def test_runs_still_waiting_for_a_place_at_stop_are_recorded_cancelled(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    """Pass: with room for one run at a time, the hung run holds the place and the other
    slot waits unclaimed (no row, nothing `running` for it); on shutdown both slots are
    recorded `cancelled`, one by cancelling its run and one by recording the slot."""
    wfs = workflows_from(
        config(steps_module, ("hang-a", "'* * * * *'", "wait"), ("hang-b", "'* * * * *'", "wait"))
    )
    clock = FakeClock(at("2026-03-01T10:00:00"))
    scheduler = make_scheduler(db, clock, max_concurrency=1)
    await scheduler.load(wfs, clock.now())
    await scheduler.tick(clock.now())
    async with asyncio.timeout(10):  # a condition, polled: the hung run never finishes
        while scheduler.stats.claimed == 0 or scheduler.backlog == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    assert [r.status for r in await ExecutionRepository(db).list(limit=10)] == ["running"]
    assert await scheduler.shutdown() == 2
    rows = await ExecutionRepository(db).list(limit=10)
    assert sorted((r.workflow, r.status) for r in rows) == [
        ("hang-a", "cancelled"),
        ("hang-b", "cancelled"),
    ]


async def test_slots_missed_by_many_plans_at_once_are_recorded_in_one_transaction(
    db: Database, workflows_from: WorkflowsFromText, steps_module: str
) -> None:
    """Pass: 50 workflows whose loop stalls for five minutes deal with it in one tick: each
    runs its latest slot (catch-up `one`) and records the four before it `missed`, and the
    200 missed slots are written by one transaction, not one per workflow."""
    wfs = workflows_from(config(steps_module, *[(f"w{i}", "'* * * * *'", "ok") for i in range(50)]))
    clock = FakeClock(at("2026-03-01T10:00:00"))
    scheduler = make_scheduler(db, clock)
    await scheduler.load(wfs, clock.now())
    await scheduler.tick(clock.now())
    await scheduler.drain()
    clock.advance(5 * 60)
    await scheduler.tick(clock.now())
    await scheduler.drain()
    rows = await ExecutionRepository(db).list(limit=1000)
    assert Counter(r.status for r in rows) == {"succeeded": 100, "missed": 200}
    assert scheduler.stats.missed == 200
    assert (scheduler._missed.batches, scheduler._missed.written) == (1, 200)
