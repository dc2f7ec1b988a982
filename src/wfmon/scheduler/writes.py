"""The scheduler's writes: claims, outcomes and missed slots, each group-committed
(`batching.GroupCommit`) and retried with backoff while the database is unavailable.

A result stays in memory until the database takes it: a flaky database delays a record,
it does not lose it. Only transient `StorageError`s are retried; a permanent one (a bad
statement, a constraint nobody expected) surfaces at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from wfmon.clock import Clock
from wfmon.domain.run import ExecutionResult
from wfmon.errors import StorageError
from wfmon.scheduler.batching import GroupCommit
from wfmon.storage import ExecutionRepository
from wfmon.storage.executions import MissedSlot, SlotClaim

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class SlotWrites:
    """One group commit per kind of write, one transaction of each kind in flight."""

    def __init__(
        self,
        executions: ExecutionRepository,
        clock: Clock,
        *,
        claim_interval_s: float,
        finish_window_s: float,
        max_batch: int,
    ) -> None:
        self._executions = executions
        self._clock = clock
        self.claims: GroupCommit[SlotClaim, int | None] = GroupCommit(
            self._retrying(executions.claim_slots),
            min_interval_s=claim_interval_s,
            max_batch=max_batch,
            name="claim",
        )
        self.finishes: GroupCommit[tuple[int, ExecutionResult], bool] = GroupCommit(
            self._retrying(executions.finish_many),
            window_s=finish_window_s,
            max_batch=max_batch,
            name="finish",
        )
        self.missed: GroupCommit[MissedSlot, bool] = GroupCommit(
            self._retrying(executions.record_missed_many),
            window_s=finish_window_s,
            max_batch=max_batch,
            name="missed",
        )

    @contextlib.contextmanager
    def hurry(self) -> Iterator[None]:
        """Batches go out at once meanwhile (draining, stopping)."""
        with self.claims.hurry(), self.finishes.hurry(), self.missed.hurry():
            yield

    async def aclose(self, timeout_s: float) -> None:
        """Write what was submitted (each kind within `timeout_s`), then take no more."""
        await self.claims.aclose(timeout_s=timeout_s)
        await self.finishes.aclose(timeout_s=timeout_s)
        await self.missed.aclose(timeout_s=timeout_s)

    def _retrying(
        self, write: Callable[[list[T]], Awaitable[Sequence[R]]]
    ) -> Callable[[list[T]], Awaitable[Sequence[R]]]:
        async def retried(items: list[T]) -> Sequence[R]:
            retrying = AsyncRetrying(
                wait=wait_exponential_jitter(multiplier=0.2, max=30.0),
                retry=retry_if_exception(_transient),
                sleep=self._clock.sleep,
                reraise=True,
                before_sleep=_log_retry,
            )
            written: Sequence[R] = await retrying(write, items)
            return written

        return retried


def _transient(error: BaseException) -> bool:
    return isinstance(error, StorageError) and not error.permanent


def _log_retry(retry_state: RetryCallState) -> None:
    error = retry_state.outcome.exception() if retry_state.outcome else None
    log.warning(
        "storage unavailable, retrying (attempt %d): %s",
        retry_state.attempt_number,
        error,
        extra={"event": "scheduler.storage_retry"},
    )
