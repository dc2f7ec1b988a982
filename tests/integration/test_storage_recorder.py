"""BatchRecorder: group commits of finished executions, failures surfaced to callers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from wfmon.domain.run import ExecutionResult, ExecutionStatus, StepResult, StepStatus, Timings
from wfmon.errors import StorageError
from wfmon.storage import BatchRecorder, Database, ExecutionRepository, RecorderClosed

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def result(slot: int, workflow: str = "checkout") -> ExecutionResult:
    """A succeeded two-step execution of the slot `slot` seconds after T0."""
    start = T0 + timedelta(seconds=slot)
    steps = tuple(
        StepResult(
            name=name,
            type="http",
            status=StepStatus.SUCCEEDED,
            started_at=start,
            timings=Timings(total_ms=12.5),
            response_status=200,
        )
        for name in ("home", "cart")
    )
    return ExecutionResult(
        workflow=workflow,
        location="local",
        slot_at=start,
        started_at=start,
        finished_at=start + timedelta(milliseconds=30),
        status=ExecutionStatus.SUCCEEDED,
        steps=steps,
    )


class FlakyWriter:
    """Fails its first `failures` batches, then hands out ids; remembers batch sizes."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.batches: list[int] = []

    async def record_many(self, results: Sequence[ExecutionResult]) -> list[int | None]:
        self.batches.append(len(results))
        if self.failures:
            self.failures -= 1
            error = StorageError("database is locked")
            raise error
        start = sum(self.batches[:-1])
        return list(range(start, start + len(results)))


async def test_it_batches_a_thousand_results_into_a_few_transactions(db: Database) -> None:
    repo = ExecutionRepository(db)
    recorder = BatchRecorder(repo, max_batch=256, max_delay_s=0.01)
    await recorder.start()

    ids = await asyncio.gather(*(recorder.record(result(i)) for i in range(1000)))
    await recorder.aclose()

    assert all(isinstance(i, int) for i in ids)
    assert len(set(ids)) == 1000
    assert await repo.count() == 1000
    assert recorder.recorded == 1000
    # 1000 / 256 rounds up to 4 full-or-final batches; never anywhere near one per item.
    assert recorder.flushes <= 8
    stored = await repo.get(ids[-1] or 0)
    assert stored is not None
    assert stored.slot_at == T0 + timedelta(seconds=999)
    assert [s.name for s in stored.steps] == ["home", "cart"]


async def test_a_slot_already_recorded_resolves_to_none(db: Database) -> None:
    recorder = BatchRecorder(ExecutionRepository(db), max_delay_s=0.001)
    await recorder.start()
    try:
        first, duplicate = await asyncio.gather(
            recorder.record(result(0)), recorder.record(result(0))
        )
        assert isinstance(first, int)
        assert duplicate is None
        assert await recorder.record(result(0)) is None  # in a later batch as well
    finally:
        await recorder.aclose()


async def test_a_failed_flush_reaches_every_waiting_caller_and_the_recorder_carries_on() -> None:
    writer = FlakyWriter(failures=1)
    recorder = BatchRecorder(writer, max_batch=3, max_delay_s=60.0)
    await recorder.start()

    outcomes = await asyncio.gather(
        *(recorder.record(result(i)) for i in range(3)), return_exceptions=True
    )

    assert all(isinstance(o, StorageError) for o in outcomes)
    assert len({id(o) for o in outcomes}) == 3  # one exception each, tracebacks not shared
    assert all("database is locked" in str(o) for o in outcomes)
    assert recorder.failed_flushes == 1
    # The next batch goes through.
    assert await asyncio.gather(*(recorder.record(result(i)) for i in range(3))) == [3, 4, 5]
    await recorder.aclose()
    assert writer.batches == [3, 3]


async def test_a_result_the_database_refuses_fails_alone(db: Database) -> None:
    repo = ExecutionRepository(db)
    recorder = BatchRecorder(repo, max_batch=3, max_delay_s=60.0)
    await recorder.start()
    naive = T0.replace(tzinfo=None)  # refused by the storage layer: a permanent error
    poisoned = replace(result(1), slot_at=naive)

    good, bad, also_good = await asyncio.gather(
        recorder.record(result(0)),
        recorder.record(poisoned),
        recorder.record(result(2)),
        return_exceptions=True,
    )
    await recorder.aclose()

    assert isinstance(good, int)
    assert isinstance(also_good, int)
    assert isinstance(bad, StorageError)
    assert bad.permanent
    assert await repo.count() == 2
    assert recorder.failed_flushes == 2  # the batch, then the poisoned result alone


async def test_a_partial_batch_is_written_after_max_delay() -> None:
    writer = FlakyWriter(failures=0)
    recorder = BatchRecorder(writer, max_batch=1000, max_delay_s=0.001)
    await recorder.start()

    assert await recorder.record(result(0)) == 0  # resolves without filling the batch

    await recorder.aclose()
    assert writer.batches == [1]


async def test_aclose_writes_everything_pending_then_refuses_more() -> None:
    writer = FlakyWriter(failures=0)
    recorder = BatchRecorder(writer, max_batch=4, max_delay_s=3600.0)
    await recorder.start()
    futures = [recorder.submit(result(i)) for i in range(10)]

    await recorder.aclose()

    assert [f.result() for f in futures] == list(range(10))
    assert writer.batches == [4, 4, 2]
    with pytest.raises(RecorderClosed):
        recorder.submit(result(11))
    await recorder.aclose()  # idempotent


async def test_it_refuses_results_before_start_and_running_executions() -> None:
    recorder = BatchRecorder(FlakyWriter(failures=0))
    with pytest.raises(RecorderClosed):
        recorder.submit(result(0))
    await recorder.start()
    running = ExecutionResult(
        workflow="checkout",
        location="local",
        slot_at=T0,
        started_at=T0,
        finished_at=T0,
        status=ExecutionStatus.RUNNING,
    )
    with pytest.raises(ValueError, match="finished"):
        recorder.submit(running)
    await recorder.aclose()


async def test_a_caller_that_stops_waiting_does_not_break_the_batch() -> None:
    writer = FlakyWriter(failures=0)
    recorder = BatchRecorder(writer, max_batch=2, max_delay_s=3600.0)
    await recorder.start()
    impatient = asyncio.ensure_future(recorder.record(result(0)))
    await asyncio.sleep(0)  # let it queue its result (a yield, not a timed wait)
    impatient.cancel()

    assert await recorder.record(result(1)) == 1

    await recorder.aclose()
    assert writer.batches == [2]


async def test_a_close_that_times_out_fails_what_was_not_written() -> None:
    blocked = asyncio.Event()

    class StuckWriter:
        async def record_many(self, results: Sequence[ExecutionResult]) -> list[int | None]:
            blocked.set()
            await asyncio.Event().wait()  # a database that never answers
            raise AssertionError("unreachable")

    recorder = BatchRecorder(StuckWriter(), max_batch=1, max_delay_s=0.0)
    await recorder.start()
    in_flight = recorder.submit(result(0))
    await blocked.wait()
    queued = recorder.submit(result(1))

    await recorder.aclose(timeout_s=0.01)

    for future in (in_flight, queued):
        with pytest.raises(RecorderClosed):
            future.result()
    await recorder.aclose()  # still idempotent
