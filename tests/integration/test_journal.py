"""The journal: bus events into the event log and rollups, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from api_support import execution
from wfmon.clock import SystemClock
from wfmon.events import Event, EventBus
from wfmon.journal import Journal, JournalOptions
from wfmon.storage import Database, ExecutionRepository
from wfmon.storage.event_log import EventLogRepository
from wfmon.storage.rollups import WHOLE, RollupRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_live_events_reach_the_event_log_and_results_the_rollups(db: Database) -> None:
    bus = EventBus()
    journal = Journal(db, SystemClock(), JournalOptions(backfill_on_start=False))
    journal.attach(bus)
    woken: list[int] = []
    journal.on_flush(lambda: woken.append(1))
    result = execution(T0, duration_ms=80)
    await bus.publish(Event("execution.finished", {"id": 7}, result))
    await bus.publish(Event("health.changed", {"name": "disk", "ok": False}))
    await bus.publish(Event("something.else", {}))  # not a live kind: not logged
    assert journal.pending == 3  # two events and one result
    await journal.flush()
    events = await EventLogRepository(db).after(0)
    assert [e.kind for e in events] == ["execution.finished", "health.changed"]
    finished = events[0].data
    assert finished["id"] == 7
    assert finished["duration_ms"] == 80.0
    assert finished["steps"][0]["name"] == "home"
    assert woken
    [point] = await RollupRepository(db).series("minute", "checkout", WHOLE, T0)
    assert point.cell.count == 1


async def test_what_is_pending_is_written_when_the_journal_stops(db: Database) -> None:
    bus = EventBus()
    journal = Journal(
        db, SystemClock(), JournalOptions(rollup_flush_s=3600, backfill_on_start=False)
    )
    journal.attach(bus)
    stop = asyncio.Event()
    task = asyncio.create_task(journal.run(stop))
    await bus.publish(Event("execution.finished", {"id": 1}, execution(T0)))
    stop.set()
    await task
    assert (await RollupRepository(db).totals("hour", T0))["checkout"].count == 1


async def test_rollups_are_built_once_from_existing_executions_on_first_start(
    db: Database,
) -> None:
    await ExecutionRepository(db).record_many(
        [execution(T0 + timedelta(minutes=i)) for i in range(5)]
    )
    journals = [Journal(db, SystemClock()) for _ in range(2)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(j.run(stop)) for j in journals]
    rollups = RollupRepository(db)
    await asyncio.wait_for(asyncio.gather(*(j.backfill_done.wait() for j in journals)), timeout=10)
    stop.set()
    await asyncio.gather(*tasks)
    totals = await rollups.totals("hour", T0)
    assert totals["checkout"].count == 5  # once, though two journals started
