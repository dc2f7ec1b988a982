"""Group commits for finished executions: many results, one transaction.

A transaction per execution caps SQLite at a few hundred executions a second (each commit
is a WAL append and a lock hand-off); writing them in batches of up to `max_batch` turns
that into thousands. Nobody waits long for it: a batch is written as soon as it is full or
`max_delay_s` after its first item arrived, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from wfmon.domain.run import ExecutionResult, ExecutionStatus
from wfmon.errors import StorageError

log = logging.getLogger(__name__)


class BatchWriter(Protocol):
    """What the recorder writes through (ExecutionRepository; a fake in tests)."""

    async def record_many(self, results: Sequence[ExecutionResult]) -> list[int | None]: ...


class RecorderClosed(StorageError):
    """The recorder was closed (or stopped) before this result could be written."""


_Item = tuple[ExecutionResult, asyncio.Future[int | None]]


class BatchRecorder:
    """Records finished executions in batches, in the background.

    `submit()` queues a result and returns a future of its execution id (None when its slot
    had already been recorded); `record()` awaits that future. A failed batch sets a
    StorageError on each of its futures, so no result is dropped silently, and the
    recorder carries on with the next batch. A batch refused for good (a permanent error,
    such as a value the database cannot store) is retried one result at a time, so only
    the offending result fails.
    """

    def __init__(
        self, repo: BatchWriter, *, max_batch: int = 1000, max_delay_s: float = 0.25
    ) -> None:
        if max_batch < 1 or max_delay_s < 0:
            raise ValueError("max_batch must be at least 1 and max_delay_s not negative")
        self._repo = repo
        self._max_batch = max_batch
        self._max_delay_s = max_delay_s
        self._pending: list[_Item] = []
        self._first_at = 0.0  # loop time when the oldest pending item arrived
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        # Counters for metrics and tests.
        self.flushes = 0
        self.failed_flushes = 0
        self.recorded = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def start(self) -> None:
        """Start the background writer."""
        if self._task is not None:
            raise RuntimeError("the recorder is already started")
        self._task = asyncio.create_task(self._run(), name="wfmon-batch-recorder")

    def submit(self, result: ExecutionResult) -> asyncio.Future[int | None]:
        """Queue a finished execution; the future resolves once its batch is written.

        Cheaper than `record()` for callers that do not wait (no task per result). An
        unawaited future whose batch failed is reported by asyncio when it is collected.
        """
        if self._task is None or self._closing:
            raise RecorderClosed("the recorder is not running")
        if result.status is ExecutionStatus.RUNNING:
            raise ValueError(f"{result.workflow}: only finished executions can be recorded")
        loop = self._task.get_loop()
        future: asyncio.Future[int | None] = loop.create_future()
        pending = self._pending
        pending.append((result, future))
        # Wake the writer only on the transitions it acts on, not on every item.
        if len(pending) == 1:
            self._first_at = loop.time()
            self._wakeup.set()
        elif len(pending) == self._max_batch:
            self._wakeup.set()
        return future

    async def record(self, result: ExecutionResult) -> int | None:
        """Queue a finished execution and wait until it is written; its id or None."""
        return await self.submit(result)

    async def aclose(self, timeout_s: float | None = None) -> None:
        """Write everything still pending, then stop. Idempotent.

        With `timeout_s`, a database that does not answer in time does not hold shutdown
        up: the writer is stopped and the unwritten results' futures get RecorderClosed.
        """
        task = self._task
        if task is None or task.cancelled():
            return
        self._closing = True
        self._wakeup.set()
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.shield(task)
        except TimeoutError:
            log.error(
                "recorder stopped before writing everything",
                extra={"event": "storage.recorder.close_timeout", "pending": self.pending},
            )
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not self._pending:
                    if self._closing:
                        return
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                wait_s = self._first_at + self._max_delay_s - loop.time()
                if len(self._pending) < self._max_batch and not self._closing and wait_s > 0:
                    # Let the batch fill; woken early when it is full or on close.
                    self._wakeup.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait_s):
                            await self._wakeup.wait()
                    continue
                # Items left over keep `_first_at` (older than theirs): they go out next.
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._flush(batch)
        finally:
            # Cancelled or crashed: nobody may wait forever for a result never written.
            left, self._pending = self._pending, []
            self._closing = True
            for _, future in left:
                if not future.done():
                    future.set_exception(RecorderClosed("the recorder stopped before writing"))

    async def _flush(self, batch: list[_Item]) -> None:
        self.flushes += 1
        try:
            ids = await self._repo.record_many([result for result, _ in batch])
            if len(ids) != len(batch):
                raise StorageError(f"record_many returned {len(ids)} ids for {len(batch)}")
        except asyncio.CancelledError:
            for _, future in batch:
                if not future.done():
                    future.set_exception(RecorderClosed("the recorder stopped while writing"))
            raise
        except Exception as error:  # any failure must reach the callers, not end the loop
            self.failed_flushes += 1
            permanent = getattr(error, "permanent", False)
            if permanent and len(batch) > 1:
                # One result the database refuses (a value it cannot store) must not take
                # its neighbours down with it: write them one by one to find it.
                log.warning(
                    "a batch was refused; writing its results one by one",
                    extra={"event": "storage.recorder.batch_split", "batch": len(batch)},
                )
                for item in batch:
                    await self._flush([item])
                return
            log.error(
                "recording a batch failed",
                exc_info=error,
                extra={"event": "storage.recorder.flush_failed", "batch": len(batch)},
            )
            for _, future in batch:
                if not future.done():
                    # One exception per caller: sharing one would chain their tracebacks.
                    failure = StorageError(f"recording the execution failed: {error}")
                    failure.permanent = permanent
                    failure.__cause__ = error
                    future.set_exception(failure)
            return
        self.recorded += len(batch)
        for (_, future), execution_id in zip(batch, ids, strict=True):
            if not future.done():  # a caller may have given up waiting (cancelled)
                future.set_result(execution_id)
