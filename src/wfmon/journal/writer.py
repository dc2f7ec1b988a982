"""The journal: bus events written to the event log and folded into the rollups.

It subscribes to the in-process bus and does no I/O in the subscriber (the scheduler awaits
every subscriber of `execution.finished`): events are queued and written by two loops,
the event log within `event_flush_s` (live views wait for it), the rollups every
`rollup_flush_s` in one merge (a daemon may record thousands of executions a minute, and
one transaction per execution would cost SQLite more than the runs themselves).

A write that fails keeps its batch and is retried; memory is bounded by `max_pending`
(the oldest events are dropped beyond it, with an error logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wfmon.clock import Clock, sleep_or_event
from wfmon.domain.run import ExecutionResult
from wfmon.errors import StorageError
from wfmon.events import Event, EventBus
from wfmon.storage.db import Database
from wfmon.storage.event_log import EventLogRepository
from wfmon.storage.rollup_backfill import backfill
from wfmon.storage.rollups import RollupBatch, RollupRepository
from wfmon.storage.state import StateRepository

log = logging.getLogger(__name__)

LIVE_KINDS = frozenset(
    {"execution.finished", "alert.changed", "health.changed", "workflow.changed"}
)
BACKFILLED = "rollups.backfilled"
_ERROR_TEXT_MAX = 500


@dataclass(frozen=True)
class JournalOptions:
    event_flush_s: float = 0.02  # how long events are gathered before a write
    rollup_flush_s: float = 1.0
    max_pending: int = 100_000
    retry_s: float = 1.0
    backfill_on_start: bool = True  # empty rollups beside existing executions: build them


def event_data(event: Event) -> dict[str, Any]:
    """What the event log stores (and live views receive) for an event."""
    data = dict(event.data)
    result = event.payload
    if event.kind == "execution.finished" and isinstance(result, ExecutionResult):
        reason = result.reason
        data.update(
            {
                "workflow": result.workflow,
                "location": result.location,
                "status": result.status.value,
                "trigger": result.trigger,
                "slot_at": result.slot_at.isoformat(),
                "started_at": result.started_at.isoformat(),
                "finished_at": result.finished_at.isoformat(),
                "duration_ms": round(result.duration_ms, 1),
                "error": reason[:_ERROR_TEXT_MAX] if reason else None,
                "steps": [
                    {
                        "name": step.name,
                        "status": step.status.value,
                        "duration_ms": round(step.timings.total_ms, 1),
                    }
                    for step in result.steps
                ],
            }
        )
    return data


class Journal:
    """Subscribe with `attach(bus)`, run `run(stop)` as a daemon service."""

    def __init__(self, db: Database, clock: Clock, options: JournalOptions | None = None) -> None:
        self._db = db
        self._clock = clock
        self.options = options or JournalOptions()
        self._events = EventLogRepository(db)
        self._rollups = RollupRepository(db)
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._batch = RollupBatch()
        self._event_wake = asyncio.Event()
        self._listeners: list[Callable[[], None]] = []
        self._started_at: datetime | None = None
        self.backfill_done = asyncio.Event()  # set once the start-up backfill is settled
        self.dropped = 0
        self.events_written = 0
        self.results_rolled_up = 0

    def attach(self, bus: EventBus) -> None:
        bus.subscribe(self.on_event)

    def on_flush(self, listener: Callable[[], None]) -> None:
        """Call `listener` after each write to the event log (an in-process feed wakes up
        instead of waiting for its next poll)."""
        self._listeners.append(listener)

    async def on_event(self, event: Event) -> None:
        if event.kind not in LIVE_KINDS:
            return
        self._pending.append((event.kind, event_data(event)))
        if len(self._pending) > self.options.max_pending:
            excess = len(self._pending) - self.options.max_pending
            del self._pending[:excess]
            self.dropped += excess
            log.error(
                "event log behind: %d event(s) dropped",
                excess,
                extra={"event": "journal.dropped", "count": excess},
            )
        if event.kind == "execution.finished" and isinstance(event.payload, ExecutionResult):
            self._batch.add_result(event.payload)
        self._event_wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending) + len(self._batch)

    async def run(self, stop: asyncio.Event) -> None:
        """Write until `stop` is set, then write what is left."""
        self._started_at = self._clock.now()
        tasks = [
            asyncio.create_task(self._event_loop(stop), name="journal-events"),
            asyncio.create_task(self._rollup_loop(stop), name="journal-rollups"),
        ]
        if self.options.backfill_on_start:
            tasks.append(asyncio.create_task(self._backfill_once(), name="journal-backfill"))
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(StorageError):
                await self.flush()

    async def flush(self) -> None:
        """Write everything pending now (shutdown, tests)."""
        await self._flush_events()
        await self._flush_rollups()

    async def _event_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._event_wake.wait()
            self._event_wake.clear()
            await self._clock.sleep(self.options.event_flush_s)
            try:
                await self._flush_events()
            except StorageError as error:
                self._failed("event log", error)
                await sleep_or_event(self._clock, self.options.retry_s, stop)
                self._event_wake.set()

    async def _rollup_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await sleep_or_event(self._clock, self.options.rollup_flush_s, stop)
            try:
                await self._flush_rollups()
            except StorageError as error:
                self._failed("rollups", error)

    async def _flush_events(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            await self._events.append(batch, self._clock.now())
        except BaseException:
            self._pending[:0] = batch  # keep the order for the retry
            raise
        self.events_written += len(batch)
        for listener in self._listeners:
            listener()

    async def _flush_rollups(self) -> None:
        if not len(self._batch):
            return
        batch, self._batch = self._batch, RollupBatch()
        try:
            await self._rollups.apply(batch)
        except BaseException:
            # Fold it back in: merging is additive, so nothing is counted twice.
            for tier, cells in batch.cells.items():
                mine = self._batch.cells[tier]
                for key, cell in cells.items():
                    if key in mine:
                        mine[key].merge(cell)
                    else:
                        mine[key] = cell
            self._batch.results += batch.results
            raise
        self.results_rolled_up += len(batch)

    async def _backfill_once(self) -> None:
        """Empty rollups beside existing executions (the first start after an upgrade):
        build them from the raw rows started before this journal did, once (whichever
        process claims it first)."""
        assert self._started_at is not None
        try:
            if not await self._rollups.is_empty():
                return
            state = StateRepository(self._db)
            if not await state.claim(BACKFILLED, self._started_at.isoformat(), self._clock.now()):
                return
            count = await backfill(self._db, until=self._started_at)
        except StorageError as error:
            self._failed("rollup backfill", error)
            return
        finally:
            self.backfill_done.set()
        if count:
            log.info(
                "rollups built from %d existing execution(s)",
                count,
                extra={"event": "journal.backfilled", "count": count},
            )

    def _failed(self, what: str, error: StorageError) -> None:
        log.error(
            "cannot write the %s: %s",
            what,
            error,
            extra={"event": "journal.write_failed", "what": what},
        )
