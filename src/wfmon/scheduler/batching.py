"""Group commit for the scheduler's writes: many claims (or finishes), one transaction.

A transaction per run caps SQLite at a few hundred runs a second (each commit is a WAL
append and a lock hand-off, plus a thread hop per statement); written together, a run's
share is a few tens of microseconds. `GroupCommit` collects what is submitted and writes it
with one call of `write`:

* `window_s` after the first item of a batch (with 0, on the loop's next turn), but not
  sooner than `min_interval_s` after the previous batch went out; at once when the batch
  is full or while hurried (draining, stopping). With a window of 0 and a minimum
  interval, an item that comes after a quiet spell goes out at once and a steady stream
  goes out in batches: the wait is paid only when there is company to wait for;
* one batch at a time: while one is being written the next fills, so under load batches
  grow with the load and the number of transactions waiting for a connection stays one.

Waits are on the event loop's own clock, never on the injected Clock: batching is
bookkeeping, and a FakeClock must not move because of it (tests hurry instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Generic, TypeVar

from wfmon.errors import StorageError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class BatchClosed(StorageError):
    """The batcher stopped before this item could be written."""


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        write: Callable[[list[T]], Awaitable[Sequence[R]]],
        *,
        window_s: float = 0.0,
        min_interval_s: float = 0.0,
        max_batch: int = 500,
        name: str = "batch",
    ) -> None:
        if max_batch < 1 or window_s < 0 or min_interval_s < 0:
            raise ValueError("max_batch must be at least 1, the waits not negative")
        self._write = write
        self.window_s = window_s
        self.min_interval_s = min_interval_s
        self._last_flush = float("-inf")
        self._max_batch = max_batch
        self._name = name
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._first_at = 0.0
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._hurried = 0
        # Counters for metrics and tests.
        self.batches = 0
        self.written = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(self, item: T) -> asyncio.Future[R]:
        """Queue one item; the future gets its result once its batch is written."""
        if self._closed:
            raise BatchClosed(f"the {self._name} writer is closed")
        loop = asyncio.get_running_loop()
        if self._task is None:
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._run(), name=f"wfmon-{self._name}-writer")
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) == 1:
            self._first_at = loop.time()
            self._wake()
        elif len(self._pending) >= self._max_batch:
            self._wake()
        return future

    @contextlib.contextmanager
    def hurry(self) -> Iterator[None]:
        """Within: every batch goes out at once (draining, stopping)."""
        self._hurried += 1
        self._wake()
        try:
            yield
        finally:
            self._hurried -= 1

    async def aclose(self, timeout_s: float | None = None) -> None:
        """Write what is pending, then stop; later submits raise BatchClosed.

        With `timeout_s`, a database that does not take the writes in time (the writer
        retries while it is unavailable) does not hold the caller up: the writer is stopped
        and what it had not written fails with BatchClosed."""
        self._closed = True
        self._wake()
        task = self._task
        if task is None or task.done():
            return
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.shield(task)
        except TimeoutError:
            log.error(
                "stopped the %s writer before it wrote everything",
                self._name,
                extra={"event": "scheduler.batch_close_timeout", "pending": self.pending},
            )
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        wakeup = self._wakeup
        assert wakeup is not None
        try:
            while True:
                if not self._pending:
                    if self._closed:
                        return
                    wakeup.clear()
                    await wakeup.wait()
                    continue
                due = max(self._first_at + self.window_s, self._last_flush + self.min_interval_s)
                wait_s = due - loop.time()
                urgent = self._closed or self._hurried or len(self._pending) >= self._max_batch
                if not urgent and wait_s > 0:
                    wakeup.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait_s):
                            await wakeup.wait()
                    continue
                if not urgent:
                    await asyncio.sleep(0)  # window 0: what this turn of the loop adds joins
                self._last_flush = loop.time()
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                if self._pending:
                    self._first_at = loop.time()
                await self._flush(batch)
        finally:
            left, self._pending = self._pending, []
            self._closed = True
            for _, future in left:
                if not future.done():
                    future.set_exception(BatchClosed(f"the {self._name} writer stopped"))

    async def _flush(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        self.batches += 1
        try:
            results = await self._write([item for item, _ in batch])
            if len(results) != len(batch):
                raise StorageError(f"{self._name}: {len(results)} results for {len(batch)}")
        except asyncio.CancelledError:
            for _, future in batch:
                if not future.done():
                    future.set_exception(BatchClosed(f"the {self._name} writer stopped"))
            raise
        except Exception as error:  # every caller must hear of it; the loop carries on
            if getattr(error, "permanent", False) and len(batch) > 1:
                # One item the database refuses must not fail its neighbours.
                log.warning(
                    "a %s batch was refused; writing its items one by one",
                    self._name,
                    extra={"event": "scheduler.batch_split", "batch": len(batch)},
                )
                for one in batch:
                    await self._flush([one])
                return
            for _, future in batch:
                if not future.done():
                    # One exception per waiter: sharing one would chain their tracebacks.
                    failure = StorageError(str(error))
                    failure.permanent = getattr(error, "permanent", False)
                    failure.__cause__ = error
                    future.set_exception(failure)
            return
        self.written += len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # its waiter may have been cancelled
                future.set_result(result)
