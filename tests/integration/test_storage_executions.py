"""ExecutionRepository on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from wfmon.domain.run import (
    AssertionResult,
    ExecutionResult,
    ExecutionStatus,
    StepResult,
    StepStatus,
    Timings,
)
from wfmon.domain.workflow import Schedule, Workflow
from wfmon.errors import StorageError
from wfmon.storage import Database, ExecutionRepository, WorkflowRepository
from wfmon.storage.executions import SlotClaim
from wfmon.storage.tables import executions, step_results

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def step(name: str = "home", **changes: Any) -> StepResult:
    fields: dict[str, Any] = {
        "name": name,
        "type": "http",
        "status": StepStatus.SUCCEEDED,
        "started_at": T0,
        "timings": Timings(dns_ms=1.5, connect_ms=2.0, tls_ms=None, ttfb_ms=20.25, total_ms=31.0),
        "request": {"method": "GET", "url": "https://shop.test/"},
        "response_status": 200,
    }
    fields.update(changes)
    return StepResult(**fields)


def result(
    slot: float = 0,
    *,
    workflow: str = "checkout",
    location: str = "local",
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED,
    steps: tuple[StepResult, ...] | None = None,
    **changes: Any,
) -> ExecutionResult:
    """A finished execution of the slot `slot` minutes after T0, taking 250 ms."""
    fields: dict[str, Any] = {
        "workflow": workflow,
        "location": location,
        "slot_at": at(slot),
        "started_at": at(slot),
        "finished_at": at(slot) + timedelta(milliseconds=250),
        "status": status,
        "steps": (step(),) if steps is None else steps,
        "workflow_version": "v1",
    }
    fields.update(changes)
    return ExecutionResult(**fields)


@pytest.fixture
def repo(db: Database) -> ExecutionRepository:
    return ExecutionRepository(db)


async def _count(db: Database, table: sa.Table) -> int:
    async with db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def test_claiming_a_slot_twice_gives_an_id_then_none(repo: ExecutionRepository) -> None:
    first = await repo.claim_slot("checkout", "local", T0, started_at=T0, claimed_by="sched-a")
    again = await repo.claim_slot("checkout", "local", T0, started_at=at(1), claimed_by="sched-b")

    assert isinstance(first, int)
    assert again is None
    stored = await repo.get(first)
    assert stored is not None
    assert (stored.status, stored.claimed_by) == (ExecutionStatus.RUNNING, "sched-a")
    # Another location or slot is another claim.
    assert await repo.claim_slot("checkout", "eu", T0, started_at=T0) is not None
    assert await repo.claim_slot("checkout", "local", at(1), started_at=T0) is not None


async def test_finish_applies_once(repo: ExecutionRepository) -> None:
    execution_id = await repo.claim_slot("checkout", "local", T0, started_at=T0)
    assert execution_id is not None
    failed = result(
        status=ExecutionStatus.FAILED,
        attempts=2,
        steps=(step(status=StepStatus.FAILED, error="HTTP 500"),),
    )

    assert await repo.finish(execution_id, failed) is True
    assert await repo.finish(execution_id, result()) is False  # a late second finish

    stored = await repo.get(execution_id)
    assert stored is not None
    assert stored.status is ExecutionStatus.FAILED
    assert stored.attempts == 2
    assert stored.error == "home: HTTP 500"  # ExecutionResult.reason
    assert stored.duration_ms == pytest.approx(250.0)
    assert stored.finished_at == failed.finished_at
    assert [s.status for s in stored.steps] == [StepStatus.FAILED]  # not written twice


async def test_finish_does_not_overwrite_an_aborted_execution(
    repo: ExecutionRepository,
) -> None:
    execution_id = await repo.claim_slot("checkout", "local", T0, started_at=T0)
    assert execution_id is not None
    assert await repo.abort_running(at(5), "daemon restarted") == 1

    assert await repo.finish(execution_id, result()) is False
    stored = await repo.get(execution_id)
    assert stored is not None
    assert (stored.status, stored.error, stored.steps) == (
        ExecutionStatus.ABORTED,
        "daemon restarted",
        (),
    )


async def test_record_many_skips_only_existing_slots_and_keeps_input_order(
    db: Database, repo: ExecutionRepository
) -> None:
    [existing] = await repo.record_many([result(2)])
    batch = [result(0), result(1), result(2), result(3), result(1)]

    ids = await repo.record_many(batch)

    # Slot 2 was already recorded; the second slot-1 result repeats a slot of this batch.
    assert ids[2] is None
    assert ids[4] is None
    new_ids = [ids[0], ids[1], ids[3]]
    assert all(isinstance(i, int) for i in new_ids)
    assert len({*new_ids, existing}) == 4
    for execution_id, expected in zip(ids, batch, strict=True):
        if execution_id is not None:
            stored = await repo.get(execution_id)
            assert stored is not None
            assert stored.slot_at == expected.slot_at
            assert len(stored.steps) == 1
    assert await _count(db, executions) == 4
    assert await _count(db, step_results) == 4  # skipped slots bring no steps


async def test_record_many_refuses_a_running_result(repo: ExecutionRepository) -> None:
    with pytest.raises(ValueError, match="finished"):
        await repo.record_many([result(status=ExecutionStatus.RUNNING)])
    assert await repo.record_many([]) == []


async def test_steps_round_trip(repo: ExecutionRepository) -> None:
    login = step(
        "login",
        type="http",
        status=StepStatus.FAILED,
        started_at=at(0.5),
        timings=Timings(dns_ms=None, connect_ms=None, tls_ms=None, ttfb_ms=80.5, total_ms=95.0),
        assertions=(
            AssertionResult("status", "==", 200, 200, passed=True),
            AssertionResult("json $.token", "exists", True, None, passed=False, message="no token"),
            AssertionResult("json $.items", "in", [1, 2], {"n": 3}, passed=False),
        ),
        extracted={"user_id": 42, "ratio": 0.5, "names": ["a", "b"], "nested": {"x": None}},
        request={"method": "POST", "url": "https://shop.test/login", "body": "***"},
        response_status=401,
        response_headers={"Content-Type": "application/json"},
        body_excerpt='{"error": "nope"}\x00',  # NUL: refused by PostgreSQL text
        body_truncated=True,
        redirects=("https://shop.test/a", "https://shop.test/b"),
        error=None,
    )
    skipped = step("pay", status=StepStatus.SKIPPED, response_status=None, request={})
    [execution_id] = await repo.record_many(
        [result(status=ExecutionStatus.FAILED, steps=(step(), login, skipped))]
    )
    assert execution_id is not None

    stored = await repo.get(execution_id)

    assert stored is not None
    assert [s.name for s in stored.steps] == ["home", "login", "pay"]
    assert [s.position for s in stored.steps] == [0, 1, 2]
    home, back, pay = stored.steps
    assert home.timings == Timings(dns_ms=1.5, connect_ms=2.0, ttfb_ms=20.25, total_ms=31.0)
    assert back.timings == login.timings
    assert back.assertions == login.assertions
    assert back.extracted == login.extracted
    assert back.request == login.request
    assert back.response_headers == login.response_headers
    assert back.redirects == login.redirects
    assert back.body_truncated is True
    assert home.body_truncated is False
    assert back.body_excerpt == '{"error": "nope"}\ufffd'
    assert back.to_step_result().reason == "no token"
    assert back.started_at == at(0.5)
    assert pay.status is StepStatus.SKIPPED
    assert pay.response_status is None
    assert stored.error == "login: no token"


async def test_timestamps_come_back_timezone_aware_utc(repo: ExecutionRepository) -> None:
    paris = timezone(timedelta(hours=1))
    slot = datetime(2026, 3, 1, 13, 0, 0, 123456, tzinfo=paris)  # 12:00:00.123456 UTC
    [execution_id] = await repo.record_many(
        [result(slot_at=slot, started_at=slot, finished_at=slot + timedelta(seconds=1))]
    )
    assert execution_id is not None

    stored = await repo.get(execution_id)

    assert stored is not None
    for value in (
        stored.slot_at,
        stored.started_at,
        stored.finished_at,
        stored.steps[0].started_at,
    ):
        assert value is not None
        assert value.tzinfo is not None
        assert value.utcoffset() == timedelta(0)
    assert stored.slot_at == slot
    assert stored.slot_at.hour == 12
    assert stored.slot_at.microsecond == 123456


async def test_naive_datetimes_are_refused(repo: ExecutionRepository) -> None:
    naive = datetime(2026, 1, 1)  # the point of the test
    with pytest.raises(StorageError, match="naive datetime") as caught:
        await repo.claim_slot("checkout", "local", naive, started_at=T0)
    assert caught.value.permanent  # retrying cannot help


async def test_list_filters_and_pages_newest_first(repo: ExecutionRepository) -> None:
    batch = [
        result(minute, workflow=name, location=location, status=status)
        for minute in range(10)
        for name, location, status in (
            ("checkout", "local", ExecutionStatus.SUCCEEDED),
            ("search", "eu", ExecutionStatus.FAILED if minute % 3 == 0 else ExecutionStatus.ERROR),
        )
    ]
    ids = await repo.record_many(batch)

    everything = await repo.list(limit=100)
    assert [e.id for e in everything] == sorted((i for i in ids if i is not None), reverse=True)

    # Pages of 4 with a cursor: nothing lost, nothing repeated.
    seen: list[int] = []
    before: int | None = None
    while page := await repo.list(workflow="search", limit=4, before_id=before):
        seen.extend(e.id for e in page)
        before = page[-1].id
    assert len(seen) == len(set(seen)) == 10
    assert seen == sorted(seen, reverse=True)

    failed = await repo.list(status=ExecutionStatus.FAILED)
    assert {e.slot_at for e in failed} == {at(0), at(3), at(6), at(9)}
    bad = await repo.list(status=[ExecutionStatus.FAILED, ExecutionStatus.ERROR])
    assert len(bad) == 10
    assert {e.location for e in await repo.list(location="local")} == {"local"}
    window = await repo.list(since=at(2), until=at(4))  # since inclusive, until exclusive
    assert sorted({e.slot_at for e in window}) == [at(2), at(3)]
    assert await repo.count() == 20
    assert await repo.count(workflow="search", status=ExecutionStatus.ERROR) == 6
    assert await repo.count(since=at(8)) == 4


async def test_get_of_an_unknown_id_is_none(repo: ExecutionRepository) -> None:
    assert await repo.get(123456) is None


async def test_abort_running_marks_every_running_execution(repo: ExecutionRepository) -> None:
    a = await repo.claim_slot("checkout", "local", at(0), started_at=at(0), claimed_by="a")
    b = await repo.claim_slot("search", "local", at(0), started_at=at(0), claimed_by="b")
    await repo.record_many([result(1)])  # finished: untouched

    assert await repo.abort_running(at(10), "interrupted", claimed_by="a") == 1
    assert await repo.abort_running(at(10), "interrupted") == 1  # the rest: only b was left
    assert await repo.abort_running(at(11), "again") == 0

    for execution_id in (a, b):
        assert execution_id is not None
        stored = await repo.get(execution_id)
        assert stored is not None
        assert (stored.status, stored.error, stored.finished_at) == (
            ExecutionStatus.ABORTED,
            "interrupted",
            at(10),
        )
    assert await repo.count(status=ExecutionStatus.SUCCEEDED) == 1


async def test_cancel_applies_only_to_a_running_execution(repo: ExecutionRepository) -> None:
    execution_id = await repo.claim_slot("checkout", "local", T0, started_at=T0)
    assert execution_id is not None

    assert await repo.cancel(execution_id, at(1), "shutdown") is True
    assert await repo.cancel(execution_id, at(2), "shutdown") is False

    stored = await repo.get(execution_id)
    assert stored is not None
    assert (stored.status, stored.finished_at) == (ExecutionStatus.CANCELLED, at(1))


async def test_record_missed_adds_only_slots_never_seen(repo: ExecutionRepository) -> None:
    await repo.record_many([result(1)])

    added = await repo.record_missed("checkout", "local", [at(0), at(1), at(2)], now=at(30))

    assert added == 2
    missed = await repo.list(status=ExecutionStatus.MISSED)
    assert sorted(e.slot_at for e in missed) == [at(0), at(2)]
    assert all(e.started_at == e.slot_at and e.finished_at == at(30) for e in missed)
    assert await repo.record_missed("checkout", "local", [], now=at(30)) == 0


async def test_latest_per_workflow(repo: ExecutionRepository) -> None:
    await repo.record_many(
        [
            result(5, workflow="checkout"),
            result(9, workflow="checkout", status=ExecutionStatus.FAILED),
            result(7, workflow="checkout", location="eu"),
            result(1, workflow="search"),
        ]
    )
    # Recorded last but for an older slot: latest means most recently started.
    await repo.record_missed("search", "local", [at(0)], now=at(60))
    running = await repo.claim_slot("login", "local", at(3), started_at=at(3))

    latest = await repo.latest_per_workflow()

    assert sorted(latest) == ["checkout", "login", "search"]
    assert (latest["checkout"].slot_at, latest["checkout"].status) == (
        at(9),
        ExecutionStatus.FAILED,
    )
    assert latest["search"].slot_at == at(1)
    assert latest["login"].id == running


async def test_latest_per_workflow_of_an_empty_table(repo: ExecutionRepository) -> None:
    assert await repo.latest_per_workflow() == {}


async def test_deleting_an_execution_deletes_its_steps(
    db: Database, repo: ExecutionRepository
) -> None:
    [execution_id, _] = await repo.record_many([result(0), result(1)])

    async with db.write() as conn:
        await conn.execute(sa.delete(executions).where(executions.c.id == execution_id))

    assert await _count(db, step_results) == 1  # foreign keys are on, also on SQLite


async def test_concurrent_writers_wait_for_each_other(db: Database) -> None:
    # SQLite has one writer at a time: the others must queue (BEGIN IMMEDIATE plus
    # busy_timeout) instead of failing with "database is locked".
    repo = ExecutionRepository(db)
    workflows = WorkflowRepository(db)
    claims = [repo.claim_slot("checkout", "local", at(i), started_at=at(i)) for i in range(20)]
    batches = [repo.record_many([result(100 + i), result(200 + i)]) for i in range(20)]
    syncs = [
        workflows.sync([Workflow("checkout", (), Schedule(every_s=60), version=f"v{i}")], at(i))
        for i in range(10)
    ]
    reads = [repo.list(limit=5) for _ in range(10)]

    await asyncio.gather(*claims, *batches, *syncs, *reads)

    assert await repo.count() == 60


def claim(slot: float, workflow: str = "checkout", **changes: Any) -> SlotClaim:
    fields: dict[str, Any] = {"started_at": at(slot), "claimed_by": "sched-a"}
    fields.update(changes)
    return SlotClaim(workflow, "local", at(slot), **fields)


async def test_claim_slots_claims_a_batch_in_order_and_skips_taken_slots(
    db: Database, repo: ExecutionRepository
) -> None:
    """Pass: one call claims every free slot of the batch (ids in input order, rows
    `running` with their claimer and version); a slot that already had a row, and a repeat
    of a slot within the batch, get None and no second row."""
    taken = await repo.claim_slot("checkout", "local", at(2), started_at=T0)
    batch = [claim(0), claim(1, workflow_version="v7"), claim(2), claim(1), claim(0, "login")]

    ids = await repo.claim_slots(batch)

    assert ids[2] is None
    assert ids[3] is None
    new = [ids[0], ids[1], ids[4]]
    assert all(isinstance(i, int) for i in new)
    assert taken not in new
    assert len(set(new)) == 3
    for execution_id, wanted in zip(ids, batch, strict=True):
        if execution_id is None:
            continue
        stored = await repo.get(execution_id)
        assert stored is not None
        assert (stored.workflow, stored.slot_at, stored.status, stored.claimed_by) == (
            wanted.workflow,
            wanted.slot_at,
            ExecutionStatus.RUNNING,
            "sched-a",
        )
    assert (await repo.get(ids[1] or 0)).workflow_version == "v7"  # type: ignore[union-attr]
    assert await _count(db, executions) == 4
    assert await repo.claim_slots([]) == []


async def test_finish_many_completes_only_running_executions(
    db: Database, repo: ExecutionRepository
) -> None:
    """Pass: in one call, claimed executions get their outcome and steps; one aborted
    meanwhile, and a repeat of an id in the batch, are left alone (False) and get no steps."""
    first, second, aborted = await repo.claim_slots([claim(0), claim(1), claim(2)])
    assert first is not None
    assert second is not None
    assert aborted is not None
    assert await repo.cancel_many([aborted], at(3), "stopped") == 1
    failed = result(1, status=ExecutionStatus.FAILED, steps=(step(status=StepStatus.FAILED),))

    done = await repo.finish_many(
        [(first, result(0)), (second, failed), (aborted, result(2)), (first, result(0))]
    )

    assert done == [True, True, False, False]
    stored = []
    for execution_id in (first, second, aborted):
        detail = await repo.get(execution_id)
        assert detail is not None
        stored.append(detail)
    assert [s.status for s in stored] == [
        ExecutionStatus.SUCCEEDED,
        ExecutionStatus.FAILED,
        ExecutionStatus.CANCELLED,
    ]
    assert stored[0].workflow_version == "v1"
    assert stored[0].duration_ms == pytest.approx(250.0)
    assert stored[1].finished_at == failed.finished_at
    assert [len(s.steps) for s in stored] == [1, 1, 0]
    assert await _count(db, step_results) == 2
    assert await repo.finish_many([]) == []


async def test_record_cancelled_adds_rows_only_for_slots_without_one(
    repo: ExecutionRepository,
) -> None:
    """Pass: slots that were due but never started are stored `cancelled` with the reason;
    a slot that already has an execution keeps it."""
    running = await repo.claim_slot("checkout", "local", at(1), started_at=T0)

    assert await repo.record_cancelled([claim(0), claim(1)], at(2), "stopped") == 1

    rows = {r.slot_at: r for r in await repo.list(limit=10)}
    assert (rows[at(0)].status, rows[at(0)].error) == (ExecutionStatus.CANCELLED, "stopped")
    assert rows[at(1)].id == running
    assert rows[at(1)].status is ExecutionStatus.RUNNING
