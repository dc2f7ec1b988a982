"""Executions and their step results: claiming slots, recording outcomes (the reads are in
execution_reads.py).

Every write is a Core statement over plain dicts (no ORM objects): the run engine records
thousands of executions a second through `record_many`, so the per-row cost is one dict.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from wfmon.domain.run import ExecutionResult, ExecutionStatus
from wfmon.errors import StorageError
from wfmon.storage import sqlite_bulk
from wfmon.storage.db import Database
from wfmon.storage.execution_reads import ExecutionReads
from wfmon.storage.records import (
    clean_text,
    execution_row,
    step_rows,
)
from wfmon.storage.tables import executions, step_results

SLOT_KEY = ("workflow", "location", "slot_at")
MISSED_REASON = "missed: no scheduler was running at this slot"

SlotKey = tuple[str, str, datetime]
MAX_CLAIMS_PER_INSERT = 1000  # PostgreSQL: 12 parameters a row, 65,535 a statement


@dataclass(frozen=True)
class MissedSlot:
    """A slot that will not run, and why: recorded `missed` (`record_missed_many`)."""

    workflow: str
    location: str
    slot_at: datetime
    now: datetime
    reason: str = MISSED_REASON


@dataclass(frozen=True)
class SlotClaim:
    """A slot about to run: the `running` execution `claim_slots` inserts for it."""

    workflow: str
    location: str
    slot_at: datetime
    started_at: datetime
    trigger: str = "schedule"
    claimed_by: str | None = None
    workflow_version: str | None = None

    @property
    def row(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "location": self.location,
            "slot_at": self.slot_at,
            "trigger": self.trigger,
            "status": ExecutionStatus.RUNNING.value,
            "attempts": 1,
            "started_at": self.started_at,
            "finished_at": None,
            "duration_ms": None,
            "error": None,
            "workflow_version": self.workflow_version,
            "claimed_by": self.claimed_by,
        }


class ExecutionRepository(ExecutionReads):
    """Writes and reads `executions` and `step_results` (the reads: execution_reads.py)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
        new_slot = insert(executions).on_conflict_do_nothing(index_elements=list(SLOT_KEY))
        self._claim = new_slot.returning(executions.c.id)
        # Returned with its slot, not in parameter order: rows skipped by ON CONFLICT leave
        # no trace in RETURNING, so only the slot can say which input a new id belongs to.
        # (`sort_by_parameter_order=True` cannot help with that, and on SQLite it makes
        # SQLAlchemy fall back to one INSERT per row.)
        self._insert_slots = new_slot.returning(
            executions.c.id, executions.c.workflow, executions.c.location, executions.c.slot_at
        )
        self._insert_steps = sa.insert(step_results)
        b = sa.bindparam
        self._finish_one = (
            sa.update(executions)
            .where(
                executions.c.id == b("b_id"),
                executions.c.status == ExecutionStatus.RUNNING.value,
            )
            .values(
                status=b("b_status"),
                attempts=b("b_attempts"),
                started_at=b("b_started_at", type_=executions.c.started_at.type),
                finished_at=b("b_finished_at", type_=executions.c.finished_at.type),
                duration_ms=b("b_duration_ms"),
                error=b("b_error"),
                workflow_version=sa.func.coalesce(
                    b("b_workflow_version", type_=sa.Text()), executions.c.workflow_version
                ),
            )
        )

    # -- writes ---------------------------------------------------------------------------

    async def claim_slot(
        self,
        workflow: str,
        location: str,
        slot_at: datetime,
        *,
        started_at: datetime,
        trigger: str = "schedule",
        claimed_by: str | None = None,
        workflow_version: str | None = None,
    ) -> int | None:
        """Start a slot: its new `running` execution's id, or None if the slot already ran.

        Atomic across processes (a unique constraint), so restarts and several schedulers
        never run one slot twice.
        """
        row = {
            "workflow": workflow,
            "location": location,
            "slot_at": slot_at,
            "trigger": trigger,
            "status": ExecutionStatus.RUNNING.value,
            "attempts": 1,
            "started_at": started_at,
            "finished_at": None,
            "duration_ms": None,
            "error": None,
            "workflow_version": workflow_version,
            "claimed_by": claimed_by,
        }
        async with self._db.write() as conn:
            result = await conn.execute(self._claim, row)
            execution_id: int | None = result.scalar_one_or_none()
            return execution_id

    async def claim_slots(self, claims: Sequence[SlotClaim]) -> builtins.list[int | None]:
        """Start many slots in one transaction: one entry per claim, in order, the new
        `running` execution's id or None where the slot already had an execution (also for
        a repeat of a slot within `claims`). Atomic across processes like `claim_slot`."""
        if not claims:
            return []
        if self._db.dialect == "sqlite":
            try:
                rows = [
                    sqlite_bulk.claim_row(
                        c.workflow,
                        c.location,
                        c.slot_at,
                        c.started_at,
                        c.trigger,
                        c.claimed_by,
                        c.workflow_version,
                    )
                    for c in claims
                ]
            except ValueError as error:
                raise _refused(error) from error
            async with self._db.write() as conn:
                stored = await sqlite_bulk.claim_many(conn, rows)
            return [stored.pop((r[0], r[1], r[2]), None) for r in rows]
        new_ids: dict[SlotKey, int] = {}
        async with self._db.write() as conn:
            for start in range(0, len(claims), MAX_CLAIMS_PER_INSERT):
                chunk = [c.row for c in claims[start : start + MAX_CLAIMS_PER_INSERT]]
                for i, w, loc, slot in await conn.execute(self._insert_slots, chunk):
                    new_ids[(w, loc, slot)] = i
        return [new_ids.pop((c.workflow, c.location, c.slot_at), None) for c in claims]

    async def finish_many(
        self, items: Sequence[tuple[int, ExecutionResult]]
    ) -> builtins.list[bool]:
        """`finish` for many executions in one transaction: one entry per item, True where
        the row was still `running` and now holds the outcome and steps."""
        if not items:
            return []
        if self._db.dialect == "sqlite":
            async with self._db.write() as conn:
                return await sqlite_bulk.finish_many(conn, items)
        ids = sorted({execution_id for execution_id, _ in items})
        locked = (
            sa.select(executions.c.id)
            .where(executions.c.id.in_(ids), executions.c.status == ExecutionStatus.RUNNING.value)
            .with_for_update()  # a cancel or recovery elsewhere waits for this transaction
        )
        async with self._db.write() as conn:
            running = set((await conn.execute(locked)).scalars())
            done: builtins.list[bool] = []
            params: builtins.list[dict[str, Any]] = []
            steps: builtins.list[dict[str, Any]] = []
            for execution_id, result in items:
                applies = execution_id in running
                running.discard(execution_id)  # twice in one batch: only the first applies
                done.append(applies)
                if not applies:
                    continue
                params.append(_finish_params(execution_id, result))
                if result.steps:
                    steps.extend(step_rows(execution_id, result.steps))
            if params:
                await conn.execute(self._finish_one, params)
            if steps:
                await conn.execute(self._insert_steps, steps)
        return done

    async def finish(self, execution_id: int, result: ExecutionResult) -> bool:
        """Complete a claimed execution with its outcome and steps, in one transaction.

        Applies only while the row is still `running`: False when it was finished, aborted
        or cancelled meanwhile (a late runner never overwrites a recovery decision).
        """
        values = execution_row(result)
        for key in (*SLOT_KEY, "trigger", "claimed_by"):
            del values[key]
        if values["workflow_version"] is None:
            del values["workflow_version"]
        update = (
            sa.update(executions)
            .where(
                executions.c.id == execution_id,
                executions.c.status == ExecutionStatus.RUNNING.value,
            )
            .values(values)
            .returning(executions.c.id)
        )
        async with self._db.write() as conn:
            if (await conn.execute(update)).first() is None:
                return False
            if result.steps:
                await conn.execute(self._insert_steps, step_rows(execution_id, result.steps))
        return True

    async def record_many(self, results: Sequence[ExecutionResult]) -> builtins.list[int | None]:
        """Insert finished executions and all their steps: two statements, one transaction.

        Returns one entry per input, in order: the new id, or None where that slot already
        had an execution (also for a repeat of a slot within `results`). A skipped slot does
        not fail the others.
        """
        if not results:
            return []
        if self._db.dialect == "sqlite":
            async with self._db.write() as conn:
                return await sqlite_bulk.record_many(conn, results)
        rows = [execution_row(r) for r in results]
        async with self._db.write() as conn:
            inserted = await conn.execute(self._insert_slots, rows)
            new_ids: dict[SlotKey, int] = {(w, loc, s): i for i, w, loc, s in inserted}
            ids: builtins.list[int | None] = []
            steps: builtins.list[dict[str, Any]] = []
            for result in results:
                # pop: a second result for the same slot gets None, like an existing slot.
                execution_id = new_ids.pop((result.workflow, result.location, result.slot_at), None)
                ids.append(execution_id)
                if execution_id is not None and result.steps:
                    steps.extend(step_rows(execution_id, result.steps))
            if steps:
                await conn.execute(self._insert_steps, steps)
        return ids

    async def record_missed(
        self,
        workflow: str,
        location: str,
        slot_ats: Sequence[datetime],
        now: datetime,
        *,
        reason: str = MISSED_REASON,
    ) -> int:
        """Record slots that were never run as `missed`; returns how many were new.

        `started_at` is the slot itself, so they sit at their place on a timeline.
        """
        missed = [MissedSlot(workflow, location, slot_at, now, reason) for slot_at in slot_ats]
        return sum(await self.record_missed_many(missed))

    async def record_missed_many(self, slots: Sequence[MissedSlot]) -> builtins.list[bool]:
        """`record_missed` for slots of many workflows in one transaction: one entry per
        slot, True where its row is new (False: the slot had one, or repeats one of
        `slots`)."""
        if not slots:
            return []
        rows = [
            {
                "workflow": m.workflow,
                "location": m.location,
                "slot_at": m.slot_at,
                "trigger": "schedule",
                "status": ExecutionStatus.MISSED.value,
                "attempts": 0,
                "started_at": m.slot_at,
                "finished_at": m.now,
                "duration_ms": None,
                "error": m.reason,
                "workflow_version": None,
                "claimed_by": None,
            }
            for m in slots
        ]
        new: set[SlotKey] = set()
        async with self._db.write() as conn:
            for start in range(0, len(rows), MAX_CLAIMS_PER_INSERT):
                chunk = rows[start : start + MAX_CLAIMS_PER_INSERT]
                new.update(
                    (w, loc, slot)
                    for _, w, loc, slot in await conn.execute(self._insert_slots, chunk)
                )
        out: builtins.list[bool] = []
        for m in slots:
            key = (m.workflow, m.location, m.slot_at)
            out.append(key in new)
            new.discard(key)
        return out

    async def abort_running(
        self, now: datetime, reason: str, *, claimed_by: str | None = None
    ) -> int:
        """Crash recovery: mark `running` executions `aborted`; returns how many.

        With several schedulers on one database, pass `claimed_by` so an instance only
        aborts what it had claimed itself, not its live neighbours' work.
        """
        conditions = [executions.c.status == ExecutionStatus.RUNNING.value]
        if claimed_by is not None:
            conditions.append(executions.c.claimed_by == claimed_by)
        return await self._close_running(conditions, ExecutionStatus.ABORTED, now, reason)

    async def cancel(self, execution_id: int, now: datetime, reason: str) -> bool:
        """Mark one running execution `cancelled` (shutdown); False if it was not running."""
        conditions = [
            executions.c.id == execution_id,
            executions.c.status == ExecutionStatus.RUNNING.value,
        ]
        return await self._close_running(conditions, ExecutionStatus.CANCELLED, now, reason) > 0

    async def cancel_many(self, execution_ids: Collection[int], now: datetime, reason: str) -> int:
        """`cancel` for many executions in one transaction; returns how many were running."""
        ids = sorted(set(execution_ids))
        closed = 0
        for start in range(0, len(ids), 1000):
            conditions = [
                executions.c.id.in_(ids[start : start + 1000]),
                executions.c.status == ExecutionStatus.RUNNING.value,
            ]
            closed += await self._close_running(conditions, ExecutionStatus.CANCELLED, now, reason)
        return closed

    async def record_cancelled(self, slots: Sequence[SlotClaim], now: datetime, reason: str) -> int:
        """Record slots that were due but never started (stopped while they waited) as
        `cancelled`, unless the slot already has an execution; returns how many were new."""
        if not slots:
            return 0
        rows = []
        for slot in slots:
            row = slot.row
            row.update(
                status=ExecutionStatus.CANCELLED.value,
                attempts=0,
                finished_at=now,
                error=clean_text(reason),
            )
            rows.append(row)
        async with self._db.write() as conn:
            return len((await conn.execute(self._insert_slots, rows)).all())

    async def _close_running(
        self,
        conditions: builtins.list[sa.ColumnElement[bool]],
        status: ExecutionStatus,
        now: datetime,
        reason: str,
    ) -> int:
        update = (
            sa.update(executions)
            .where(*conditions)
            .values(status=status.value, finished_at=now, error=clean_text(reason))
            .returning(executions.c.id)
        )
        async with self._db.write() as conn:
            return len((await conn.execute(update)).all())


def _finish_params(execution_id: int, result: ExecutionResult) -> dict[str, Any]:
    if result.status is ExecutionStatus.RUNNING:
        raise ValueError(f"{result.workflow}: a finished execution cannot be `running`")
    return {
        "b_id": execution_id,
        "b_status": result.status.value,
        "b_attempts": result.attempts,
        "b_started_at": result.started_at,
        "b_finished_at": result.finished_at,
        "b_duration_ms": result.duration_ms,
        "b_error": clean_text(result.reason),
        "b_workflow_version": result.workflow_version,
    }


def _refused(error: ValueError) -> StorageError:
    wrapped = StorageError(f"recording refused a value: {error}")
    wrapped.permanent = True
    return wrapped
