"""`POST /workflows/{name}/run`: run a workflow now, outside its schedule.

The slot is claimed first (trigger `manual`, slot = now), so the caller gets the
execution id at once (202); the engine runs in the background, the result is recorded
and `execution.finished` is published on the bus like a scheduled run's. Rows claimed by
an API process that died are marked aborted when the next one starts (`recover`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from wfmon.clock import Clock
from wfmon.domain.run import ExecutionResult
from wfmon.domain.workflow import Workflow
from wfmon.errors import StorageError
from wfmon.events import Event, EventBus
from wfmon.runner.engine import Engine
from wfmon.storage import ExecutionRepository

log = logging.getLogger(__name__)

WorkflowSource = Callable[[], Sequence[Workflow]]
RECOVERY_REASON = "the API process stopped while this manual run was in flight"
STOPPED_REASON = "the API stopped before this manual run finished"


def api_instance() -> str:
    """Who claims manual runs: stable per host, so a restart can recover its rows."""
    host = os.environ.get("WFMON_INSTANCE") or socket.gethostname()
    return f"api@{host}"


@dataclass(frozen=True)
class Started:
    execution_id: int
    workflow: str
    location: str


class RunRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class ManualRuns:
    def __init__(
        self,
        *,
        engine: Engine,
        executions: ExecutionRepository,
        bus: EventBus,
        clock: Clock,
        workflows: WorkflowSource,
        limit: int = 8,
        instance: str | None = None,
    ) -> None:
        self._engine = engine
        self._executions = executions
        self._bus = bus
        self._clock = clock
        self._workflows = workflows
        self._limit = limit
        self.instance = instance or api_instance()
        self._tasks: dict[asyncio.Task[None], int] = {}

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def recover(self) -> int:
        """Mark runs this instance left running (a crash) aborted; returns how many."""
        return await self._executions.abort_running(
            self._clock.now(), RECOVERY_REASON, claimed_by=self.instance
        )

    async def start(self, name: str, location: str | None = None) -> Started:
        workflow = next((w for w in self._workflows() if w.name == name), None)
        if workflow is None:
            raise RunRefused(
                409,
                f"{name!r} is not a valid workflow of the current config (see `wfmon validate`)",
            )
        where = location or workflow.locations[0]
        if where not in workflow.locations:
            raise RunRefused(
                422, f"{name!r} runs at {', '.join(workflow.locations)}, not at {where!r}"
            )
        if len(self._tasks) >= self._limit:
            raise RunRefused(429, f"{self._limit} manual runs are in flight already; retry soon")
        now = self._clock.now()
        execution_id = await self._executions.claim_slot(
            workflow.name,
            where,
            now,
            started_at=now,
            trigger="manual",
            claimed_by=self.instance,
            workflow_version=workflow.version,
        )
        if execution_id is None:  # the same microsecond twice
            raise RunRefused(409, "a run of this workflow started at this instant already")
        task = asyncio.create_task(self._run(workflow, where, now, execution_id))
        self._tasks[task] = execution_id
        task.add_done_callback(self._done)
        return Started(execution_id, workflow.name, where)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("manual run failed: %s", task.exception(), extra={"event": "api.run_failed"})

    async def _run(
        self, workflow: Workflow, location: str, slot: datetime, execution_id: int
    ) -> None:
        result: ExecutionResult = await self._engine.run(
            workflow, location=location, slot_at=slot, trigger="manual"
        )
        if not await self._executions.finish(execution_id, result):
            return
        await self._bus.publish(
            Event(
                "execution.finished",
                {
                    "id": execution_id,
                    "workflow": result.workflow,
                    "location": result.location,
                    "status": result.status.value,
                    "duration_ms": round(result.duration_ms, 1),
                    "slot_at": result.slot_at.isoformat(),
                },
                payload=result,
            )
        )

    async def close(self) -> None:
        """Cancel runs in flight and record them cancelled."""
        tasks = dict(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        now = self._clock.now()
        for execution_id in tasks.values():
            try:
                await self._executions.cancel(execution_id, now, STOPPED_REASON)
            except StorageError as error:
                log.error("cannot record a cancelled run: %s", error)
