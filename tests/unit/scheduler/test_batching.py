"""Group commit (scheduler/batching.py) against a fake writer: what goes out together, what
a failure does, and that nothing submitted is lost on close. No timing-based waits: items
are submitted in one turn of the loop, or the batcher is hurried or closed."""

from __future__ import annotations

import asyncio

import pytest

from wfmon.errors import StorageError
from wfmon.scheduler.batching import BatchClosed, GroupCommit


class Writer:
    """Records each batch; refuses (permanently) any batch holding a negative number."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def write(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        if any(i < 0 for i in items):
            error = StorageError("refused a value")
            error.permanent = True
            raise error
        return [i * 10 for i in items]


async def test_items_submitted_in_one_turn_go_out_in_one_write() -> None:
    """Pass: 20 items submitted without yielding are written by one call, each future gets
    its own result, and later items (a quiet spell after) go out at once in a new batch."""
    writer = Writer()
    commit: GroupCommit[int, int] = GroupCommit(writer.write, min_interval_s=0.0)
    futures = [commit.submit(i) for i in range(20)]
    assert await asyncio.gather(*futures) == [i * 10 for i in range(20)]
    assert writer.batches == [list(range(20))]
    assert await commit.submit(99) == 990
    assert len(writer.batches) == 2
    await commit.aclose()


async def test_a_full_batch_goes_out_without_waiting_for_its_window() -> None:
    """Pass: with an hour-long window, reaching max_batch writes at once; the rest waits
    until the batcher is hurried, then goes out too."""
    writer = Writer()
    commit: GroupCommit[int, int] = GroupCommit(writer.write, window_s=3600, max_batch=5)
    first = [commit.submit(i) for i in range(5)]
    rest = [commit.submit(i) for i in range(5, 7)]
    assert await asyncio.gather(*first) == [0, 10, 20, 30, 40]
    assert not any(f.done() for f in rest)
    with commit.hurry():
        assert await asyncio.gather(*rest) == [50, 60]
    assert writer.batches == [[0, 1, 2, 3, 4], [5, 6]]
    await commit.aclose()


async def test_a_refused_batch_is_split_so_only_the_bad_item_fails() -> None:
    """Pass: a permanent failure of a batch retries its items one by one: the good ones
    get their results, the bad one its own StorageError."""
    writer = Writer()
    commit: GroupCommit[int, int] = GroupCommit(writer.write)
    futures = [commit.submit(i) for i in (1, -2, 3)]
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert results[0] == 10
    assert results[2] == 30
    assert isinstance(results[1], StorageError)
    assert results[1].permanent
    assert writer.batches == [[1, -2, 3], [1], [-2], [3]]
    await commit.aclose()


async def test_close_writes_what_is_pending_and_refuses_more() -> None:
    """Pass: items waiting for a long window are written by aclose(); a submit after it
    raises BatchClosed."""
    writer = Writer()
    commit: GroupCommit[int, int] = GroupCommit(writer.write, window_s=3600)
    futures = [commit.submit(i) for i in range(3)]
    await commit.aclose()
    assert [f.result() for f in futures] == [0, 10, 20]
    with pytest.raises(BatchClosed):
        commit.submit(4)


async def test_close_gives_up_on_a_writer_that_does_not_finish() -> None:
    """Pass: a write that never completes (a database that is down, retried forever) does
    not hold aclose() beyond its timeout; the item in it fails with BatchClosed."""
    never = asyncio.Event()

    async def stuck(items: list[int]) -> list[int]:
        await never.wait()
        return items

    commit: GroupCommit[int, int] = GroupCommit(stuck)
    future = commit.submit(1)
    await commit.aclose(timeout_s=0.05)
    with pytest.raises(BatchClosed):
        await future
