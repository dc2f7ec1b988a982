"""Reading executions: one with its steps, filtered pages and counts, the latest slot of each
(workflow, location) and each workflow's newest run. `ExecutionRepository` (executions.py)
inherits these; the writes live there."""

from __future__ import annotations

import builtins
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from wfmon.domain.run import ExecutionStatus
from wfmon.storage.db import Database
from wfmon.storage.records import ExecutionDetail, ExecutionSummary
from wfmon.storage.tables import executions, step_results

StatusFilter = ExecutionStatus | Collection[ExecutionStatus] | None


class ExecutionReads:
    """The read side of `ExecutionRepository`."""

    _db: Database

    async def get(self, execution_id: int) -> ExecutionDetail | None:
        """One execution with its steps, or None."""
        async with self._db.read() as conn:
            row = (
                (await conn.execute(sa.select(executions).where(executions.c.id == execution_id)))
                .mappings()
                .first()
            )
            if row is None:
                return None
            steps = (
                await conn.execute(
                    sa.select(step_results)
                    .where(step_results.c.execution_id == execution_id)
                    .order_by(step_results.c.position)
                )
            ).mappings()
            return ExecutionDetail.from_rows(row, steps.all())

    async def list(
        self,
        *,
        workflow: str | None = None,
        status: StatusFilter = None,
        location: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> builtins.list[ExecutionSummary]:
        """Newest first (by id). For the next page pass the last id seen as `before_id`.

        `since` is inclusive and `until` exclusive, both on `started_at`.
        """
        query = sa.select(executions).where(*_filters(workflow, status, location, since, until))
        if before_id is not None:
            query = query.where(executions.c.id < before_id)
        query = query.order_by(executions.c.id.desc()).limit(max(1, limit))
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings()
            return [ExecutionSummary.from_row(row) for row in rows]

    async def count(
        self,
        *,
        workflow: str | None = None,
        status: StatusFilter = None,
        location: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        """How many executions match; the same filters as `list`."""
        query = (
            sa.select(sa.func.count())
            .select_from(executions)
            .where(*_filters(workflow, status, location, since, until))
        )
        async with self._db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def last_slots(self) -> dict[tuple[str, str], datetime]:
        """The latest slot dealt with (run, missed, aborted...) per (workflow, location):
        where the scheduler resumes after a restart."""
        query = sa.select(
            executions.c.workflow, executions.c.location, sa.func.max(executions.c.slot_at)
        ).group_by(executions.c.workflow, executions.c.location)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {(w, loc): _as_utc(slot) for w, loc, slot in rows if slot is not None}

    async def latest_per_workflow(self) -> dict[str, ExecutionSummary]:
        """Each workflow's most recently started execution (running ones included)."""
        async with self._db.read() as conn:
            rows = (await conn.execute(_LATEST_PER_WORKFLOW)).mappings()
            return {row["workflow"]: ExecutionSummary.from_row(row) for row in rows}


def _filters(
    workflow: str | None,
    status: StatusFilter,
    location: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if workflow is not None:
        conditions.append(executions.c.workflow == workflow)
    if isinstance(status, ExecutionStatus):
        conditions.append(executions.c.status == status.value)
    elif status is not None:
        conditions.append(executions.c.status.in_([s.value for s in status]))
    if location is not None:
        conditions.append(executions.c.location == location)
    if since is not None:
        conditions.append(executions.c.started_at >= since)
    if until is not None:
        conditions.append(executions.c.started_at < until)
    return conditions


def _latest_per_workflow() -> sa.Select[Any]:
    # A loose index scan written as a recursive CTE: hop from one workflow name to the
    # next along the slot index (one index probe per workflow), then take each one's
    # newest execution from the (workflow, started_at) index. Neither engine can skip
    # through an index on its own, and a GROUP BY or window over the whole table grows
    # with the history (millions of rows) while this grows with the number of workflows.
    probe = executions.alias("probe")
    names = sa.select(sa.func.min(executions.c.workflow).label("name")).cte("names", recursive=True)
    following = (
        sa.select(sa.func.min(probe.c.workflow))
        .where(probe.c.workflow > names.c.name)
        .scalar_subquery()
    )
    names = names.union_all(sa.select(following).where(names.c.name.is_not(None)))
    newest = executions.alias("newest")
    newest_id = (
        sa.select(newest.c.id)
        .where(newest.c.workflow == names.c.name)
        .order_by(newest.c.started_at.desc(), newest.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    latest_ids = sa.select(newest_id).select_from(names).where(names.c.name.is_not(None))
    return sa.select(executions).where(executions.c.id.in_(latest_ids))


_LATEST_PER_WORKFLOW = _latest_per_workflow()


def _as_utc(value: datetime) -> datetime:
    # max() over the UTC-normalising column type comes back as the raw stored value on
    # SQLite (a naive datetime or text): normalise it here.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
