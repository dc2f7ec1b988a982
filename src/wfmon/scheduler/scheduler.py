"""The scheduling loop: turns due slots into claimed executions, bounded and crash-safe.

Each (workflow, location) has a plan: the last slot it dealt with and the next one. `tick(now)`
pops every plan whose next slot (plus its stable jitter offset) has come, decides with
`catchup.plan_catch_up` which due slots run and which are recorded `missed`, and starts a task
per run. A task first *claims* its slot in the database (a unique row), so a restart, a second
scheduler or a clock step back can never run a slot twice; then it waits for a place under the
global concurrency bound, runs the engine and records the result.

Time comes only from the injected clock: tests drive `tick()` through a day in a second.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import os
import socket
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from wfmon.clock import Clock, sleep_or_event
from wfmon.domain.run import ExecutionResult
from wfmon.domain.workflow import Schedule, Workflow
from wfmon.errors import StorageError
from wfmon.events import Event, EventBus
from wfmon.runner.engine import Engine
from wfmon.scheduler.catchup import CatchUpPolicy, parse_catch_up, plan_catch_up
from wfmon.scheduler.cron import due_slots, jitter_offset, next_slot, start_at
from wfmon.scheduler.writes import SlotWrites
from wfmon.storage import ExecutionRepository
from wfmon.storage.executions import MissedSlot, SlotClaim

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (workflow, location)

OVERLAP_REASON = "previous run of this workflow was still in flight"
STOPPED_REASON = "the daemon stopped before this run finished"
# On stop, how long the batched writes still pending may take (a database that is down
# must not hold the stop up: runs left `running` are marked aborted on the next start).
WRITERS_CLOSE_S = 10.0


def default_instance() -> str:
    """Who claims slots: stable across restarts on one host, so recovery finds its rows."""
    return os.environ.get("WFMON_INSTANCE") or socket.gethostname()


@dataclass(frozen=True)
class SchedulerOptions:
    max_concurrency: int = 64
    grace_s: float = 30.0  # on stop: how long in-flight runs may finish
    instance: str = field(default_factory=default_instance)
    max_late_s: float = 60.0  # policy `none`: a slot this late still counts as on time
    # Group commit (scheduler/batching.py). A claim goes out at once after a quiet spell,
    # otherwise with those due within `claim_interval_s` (a wait there is lag); finishes
    # wait up to `finish_window_s` for company (after the run: not lag).
    claim_interval_s: float = 0.025
    finish_window_s: float = 0.1
    max_batch: int = 500


@dataclass
class Plan:
    workflow: Workflow
    location: str
    offset_s: float
    policy: CatchUpPolicy
    last_slot: datetime | None
    next_slot: datetime
    generation: int
    planned_at: datetime  # when this plan was made: slots due before it are catch-ups
    running: int = 0

    @property
    def key(self) -> Key:
        return (self.workflow.name, self.location)

    @property
    def start(self) -> datetime:
        return start_at(self.next_slot, self.offset_s)


@dataclass
class SchedulerStats:
    claimed: int = 0
    duplicates: int = 0  # slots another scheduler (or an earlier life) had already claimed
    finished: int = 0
    missed: int = 0
    overlapped: int = 0
    cancelled: int = 0
    lags_s: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))


class Scheduler:
    def __init__(
        self,
        *,
        engine: Engine,
        executions: ExecutionRepository,
        clock: Clock,
        bus: EventBus | None = None,
        options: SchedulerOptions | None = None,
    ) -> None:
        self._engine = engine
        self._executions = executions
        self._clock = clock
        self._bus = bus or EventBus()
        self.options = options or SchedulerOptions()
        self._plans: dict[Key, Plan] = {}
        self._heap: list[tuple[datetime, int, Key, int]] = []
        self._seq = 0
        self._generation = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._claimed: dict[asyncio.Task[None], int] = {}
        # Runs waiting for a place (not claimed yet): recorded `cancelled` if stopped there.
        self._unclaimed: dict[asyncio.Task[None], SlotClaim] = {}
        # Claimed for runs that were cancelled before they heard their id (stopping).
        self._orphans: list[int] = []
        opts = self.options
        self._writes = SlotWrites(
            executions,
            clock,
            claim_interval_s=opts.claim_interval_s,
            finish_window_s=opts.finish_window_s,
            max_batch=opts.max_batch,
        )
        self._claims = self._writes.claims
        self._finishes = self._writes.finishes
        self._missed = self._writes.missed
        self._slots = asyncio.Semaphore(self.options.max_concurrency)
        self._waiting = 0
        self.stats = SchedulerStats()
        self.wake = asyncio.Event()
        self._stopping = False

    # -- plans ------------------------------------------------------------------------------

    @property
    def plans(self) -> dict[Key, Plan]:
        return self._plans

    @property
    def backlog(self) -> int:
        """Runs claimed and waiting for a place under the concurrency bound."""
        return self._waiting

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def load(self, workflows: Iterable[Workflow], now: datetime) -> None:
        """First plans after start: what each (workflow, location) last did, from storage,
        then catch up on what came due while nothing ran."""
        last = await self._executions.last_slots()
        self.set_workflows(workflows, now, last_slots=last, first=True)

    def set_workflows(
        self,
        workflows: Iterable[Workflow],
        now: datetime,
        *,
        last_slots: dict[Key, datetime] | None = None,
        first: bool = False,
    ) -> tuple[list[str], list[str], list[str]]:
        """Apply a (re)loaded config: (added, changed, removed) workflow names.

        A workflow whose schedule, locations or catch-up policy changed is replanned from now;
        one whose steps changed keeps its next slot and runs the new steps.
        """
        wanted = {w.name: w for w in workflows if w.enabled}
        before = {key[0] for key in self._plans}
        added: list[str] = []
        changed: list[str] = []
        by_name: dict[str, list[Key]] = {}
        for key in self._plans:
            by_name.setdefault(key[0], []).append(key)
        for key in [k for k in self._plans if k[0] not in wanted]:
            del self._plans[key]
        for name, workflow in wanted.items():
            locations = set(workflow.locations)
            stale = [k for k in by_name.get(name, ()) if k[1] not in locations]
            for key in stale:
                del self._plans[key]
            is_changed = bool(stale)
            for location in workflow.locations:
                old = self._plans.get((name, location))
                if old is not None and _same_timing(old.workflow, workflow):
                    is_changed = is_changed or old.workflow.version != workflow.version
                    old.workflow = workflow  # same timing: keep the next slot, new steps
                    continue
                is_changed = is_changed or old is not None
                last = last_slots.get((name, location)) if last_slots is not None else None
                self._add_plan(workflow, location, last, now, catch_up=first)
            if name not in before:
                added.append(name)
            elif is_changed:
                changed.append(name)
        self.wake.set()
        return added, changed, sorted(before - set(wanted))

    def _add_plan(
        self,
        workflow: Workflow,
        location: str,
        last: datetime | None,
        now: datetime,
        *,
        catch_up: bool,
    ) -> None:
        self._generation += 1
        # With catch-up, the first tick sees every slot since `last` as due; without it (a
        # workflow added or rescheduled by a reload) the plan starts at the next slot.
        if catch_up:
            first_due = due_slots(workflow.schedule, last, now)
            upcoming = first_due[0] if first_due else next_slot(workflow.schedule, now)
        else:
            upcoming = next_slot(workflow.schedule, now)
            last = None
        plan = Plan(
            workflow=workflow,
            location=location,
            offset_s=jitter_offset(f"{workflow.name}@{location}", workflow.jitter_s),
            policy=parse_catch_up(workflow.catch_up),
            last_slot=last,
            next_slot=upcoming,
            generation=self._generation,
            planned_at=now,
        )
        self._plans[plan.key] = plan
        self._push(plan)

    def _push(self, plan: Plan) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (plan.start, self._seq, plan.key, plan.generation))

    def next_wake(self) -> datetime | None:
        """When the earliest plan is due (None when there is nothing to run)."""
        while self._heap:
            start, _, key, generation = self._heap[0]
            plan = self._plans.get(key)
            if plan is not None and plan.generation == generation:
                return start
            heapq.heappop(self._heap)  # a plan replaced or removed since it was pushed
        return None

    # -- the loop ---------------------------------------------------------------------------

    async def tick(self, now: datetime) -> int:
        """Deal with every plan due at `now`; returns how many runs were started."""
        started = 0
        while not self._stopping:
            start = self.next_wake()
            if start is None or start > now:
                break
            _, _, key, _ = heapq.heappop(self._heap)
            plan = self._plans[key]
            schedule = plan.workflow.schedule
            # A plan that never dealt with a slot starts at its planned next slot: every slot
            # from there on is due, so a first tick that comes late (a busy loop, a stalled
            # host) records the slots it passed instead of silently keeping only the latest.
            following: datetime | None = None
            if plan.last_slot is not None and plan.last_slot < plan.next_slot <= now:
                # The usual case: only the planned slot (the one after the last) is due and
                # the next is still ahead: one step of the schedule, not a walk from the last.
                following = next_slot(schedule, plan.next_slot)
            if following is not None and following > now:
                due = [plan.next_slot]
            else:
                since = plan.last_slot or plan.next_slot - timedelta(microseconds=1)
                due = due_slots(schedule, since, now)
                following = None
            if not due:
                # The wall clock went back after this plan was pushed: wait for its slot.
                plan.next_slot = next_slot(schedule, plan.last_slot or now)
                self._push(plan)
                continue
            decision = plan_catch_up(
                due,
                plan.policy,
                now=now - timedelta(seconds=plan.offset_s),
                grace_s=self.options.max_late_s,
            )
            if decision.missed:
                self._track(self._record_missed(plan, decision.missed, decision.reason, now))
            for slot in decision.run:
                # A slot that was already due when this plan was made (downtime, or a new
                # workflow's latest slot) is a catch-up run: late by design, not lag.
                due_before = start_at(slot, plan.offset_s) < plan.planned_at
                self._start(plan, slot, "catch-up" if due_before else "schedule")
                started += 1
            plan.last_slot = due[-1]
            plan.next_slot = following or next_slot(schedule, due[-1])
            self._push(plan)
        return started

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set, sleeping until the next due plan (at most 1 s, so a
        wall-clock jump is noticed promptly)."""
        while not stop.is_set():
            now = self._clock.now()
            await self.tick(now)
            wake = self.next_wake()
            delay = 1.0 if wake is None else (wake - self._clock.now()).total_seconds()
            self.wake.clear()
            await sleep_or_event(self._clock, min(max(delay, 0.0), 1.0), stop, self.wake)

    def _start(self, plan: Plan, slot: datetime, trigger: str) -> None:
        if plan.running >= plan.workflow.concurrency:
            self.stats.overlapped += 1
            self._track(self._record_missed(plan, (slot,), OVERLAP_REASON, self._clock.now()))
        else:
            plan.running += 1
            self._track(self._execute(plan, slot, trigger))

    def _track(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._claimed.pop(task, None)
        self._unclaimed.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "run task failed: %s",
                task.exception(),
                extra={"event": "scheduler.task_failed"},
            )

    async def _execute(self, plan: Plan, slot: datetime, trigger: str) -> None:
        workflow, location = plan.workflow, plan.location
        task = asyncio.current_task()
        try:
            # A place first, then the claim: a run never holds a claimed `running` row while
            # it waits, and a burst of due slots is claimed as fast as places free up.
            self._waiting += 1
            due = SlotClaim(
                workflow.name,
                location,
                slot,
                started_at=self._clock.now(),
                trigger=trigger,
                claimed_by=self.options.instance,
                workflow_version=workflow.version,
            )
            if task is not None:
                self._unclaimed[task] = due
            try:
                await self._slots.acquire()
            finally:
                self._waiting -= 1
            try:
                execution_id = await self._claim(replace(due, started_at=self._clock.now()), task)
                if execution_id is None:
                    return
                if trigger == "schedule":  # a catch-up run is late by design: not lag
                    lag = self._clock.now() - start_at(slot, plan.offset_s)
                    self.stats.lags_s.append(lag.total_seconds())
                result = await self._engine.run(
                    workflow, location=location, slot_at=slot, trigger=trigger
                )
            finally:
                self._slots.release()
            await self._finish(execution_id, result)
        finally:
            plan.running -= 1

    async def _claim(self, claim: SlotClaim, task: asyncio.Task[Any] | None) -> int | None:
        claimed = self._claims.submit(claim)
        if task is not None:
            self._unclaimed.pop(task, None)
        try:
            # Shielded: a run cancelled (stopping) while its claim is being written still
            # learns the id, so the row is recorded `cancelled` rather than left `running`.
            execution_id = await asyncio.shield(claimed)
        except asyncio.CancelledError:
            claimed.add_done_callback(self._orphaned)
            raise
        if execution_id is None:
            self.stats.duplicates += 1
            log.info(
                "slot already claimed: %s@%s %s",
                claim.workflow,
                claim.location,
                claim.slot_at.isoformat(),
                extra={"event": "scheduler.slot_taken"},
            )
        else:
            self.stats.claimed += 1
            if task is not None:
                self._claimed[task] = execution_id
        return execution_id

    def _orphaned(self, claimed: asyncio.Future[int | None]) -> None:
        if not claimed.cancelled() and claimed.exception() is None:
            execution_id = claimed.result()
            if execution_id is not None:
                self._orphans.append(execution_id)

    async def _finish(self, execution_id: int, result: ExecutionResult) -> None:
        # The result is in memory: the writer keeps trying until the database takes it (a
        # flaky database delays the record, it does not lose it).
        await self._finishes.submit((execution_id, result))
        self.stats.finished += 1
        await self._bus.publish(
            Event(
                kind="execution.finished",
                data={
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

    async def _record_missed(
        self, plan: Plan, slots: Iterable[datetime], reason: str, now: datetime
    ) -> None:
        slots = tuple(slots)
        name, location = plan.workflow.name, plan.location
        # Batched with every other plan's: a stalled loop that wakes to thousands of late
        # plans writes their missed slots in a few transactions, not one each.
        await asyncio.gather(
            *(self._missed.submit(MissedSlot(name, location, s, now, reason)) for s in slots)
        )
        self.stats.missed += len(slots)
        log.warning(
            "%d slot(s) of %s@%s recorded missed: %s",
            len(slots),
            plan.workflow.name,
            plan.location,
            reason,
            extra={"event": "scheduler.missed", "workflow": plan.workflow.name},
        )

    # -- stopping ---------------------------------------------------------------------------

    async def drain(self) -> None:
        """Wait until every started run has finished (tests; the daemon uses `shutdown`).
        Batches go out at once meanwhile: nobody waits for company that is not coming."""
        with self._writes.hurry():
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def shutdown(self) -> int:
        """Stop taking slots, give in-flight runs the grace period, then cancel the rest and
        record them `cancelled`. Returns how many were cancelled."""
        self._stopping = True
        with self._writes.hurry():
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=self.options.grace_s)
            late = list(self._tasks)
            ids = [self._claimed[t] for t in late if t in self._claimed]
            waiting = [self._unclaimed[t] for t in late if t in self._unclaimed]
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            # Claims already submitted are written (and their ids heard, `_orphaned`);
            # finishes already submitted are recorded as the outcome they are.
            await self._writes.aclose(WRITERS_CLOSE_S)
        ids += self._orphans
        now = self._clock.now()
        try:
            # One transaction for all of them: a busy database gets one chance to refuse,
            # not one per run.
            self.stats.cancelled += await self._executions.cancel_many(ids, now, STOPPED_REASON)
            if waiting:
                await self._executions.record_cancelled(waiting, now, STOPPED_REASON)
                self.stats.cancelled += len(waiting)
        except StorageError as error:
            # Left `running`: the next start's recovery marks it aborted instead.
            log.error(
                "could not record cancellation: %s",
                error,
                extra={"event": "scheduler.cancel_failed"},
            )
        return self.stats.cancelled


def _same_timing(old: Workflow, new: Workflow) -> bool:
    return (
        _schedule_key(old.schedule) == _schedule_key(new.schedule)
        and old.catch_up == new.catch_up
        and old.jitter_s == new.jitter_s
    )


def _schedule_key(schedule: Schedule) -> tuple[Any, ...]:
    return (schedule.cron, schedule.every_s, schedule.timezone)
