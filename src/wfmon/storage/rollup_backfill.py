"""Build rollups from raw executions: after an upgrade, or to repair a period.

`backfill` adds the executions started in [since, until) to the rollups (for empty
rollups: the first start after an upgrade). `rebuild` first deletes the whole hours it
covers, then backfills them, so running it twice gives the same result.

Rows are read in chunks by id (a keyset walk of the primary key, the same on both engines)
with their steps, aggregated in memory and merged with one upsert per chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from wfmon.storage.db import Database
from wfmon.storage.rollups import COUNTED, WHOLE, RollupBatch, RollupRepository, floor_to
from wfmon.storage.tables import executions, step_results

Progress = Callable[[int], None]


async def backfill(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    chunk: int = 5000,
    progress: Progress | None = None,
) -> int:
    """Add executions started in [since, until) to the rollups; returns how many."""
    repo = RollupRepository(db)
    last_id = 0
    total = 0
    counted = sorted(COUNTED)
    while True:
        query = sa.select(
            executions.c.id,
            executions.c.workflow,
            executions.c.started_at,
            executions.c.status,
            executions.c.duration_ms,
        ).where(executions.c.id > last_id, executions.c.status.in_(counted))
        if since is not None:
            query = query.where(executions.c.started_at >= since)
        if until is not None:
            query = query.where(executions.c.started_at < until)
        query = query.order_by(executions.c.id).limit(chunk)
        async with db.read() as conn:
            rows = (await conn.execute(query)).all()
            if not rows:
                break
            first, last_id = rows[0][0], rows[-1][0]
            steps = (
                await conn.execute(
                    sa.select(
                        step_results.c.execution_id,
                        step_results.c.name,
                        step_results.c.status,
                        step_results.c.total_ms,
                    ).where(step_results.c.execution_id.between(first, last_id))
                )
            ).all()
        batch = RollupBatch()
        started = {}
        for execution_id, workflow, started_at, status, duration_ms in rows:
            started[execution_id] = (workflow, started_at)
            batch.add(workflow, WHOLE, started_at, status, duration_ms)
        for execution_id, name, status, total_ms in steps:
            owner = started.get(execution_id)
            if owner is not None:
                batch.add(owner[0], name, owner[1], status, total_ms)
        await repo.apply(batch)
        total += len(rows)
        if progress is not None:
            progress(total)
    return total


async def rebuild(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    chunk: int = 5000,
    progress: Progress | None = None,
) -> int:
    """Recompute the rollups of the whole hours in [since, until) from raw executions.

    Both ends are rounded down to the hour, so no bucket is half rebuilt. Without `since`
    it starts at the hour of the oldest raw execution: older rollups, whose raw rows
    retention has already removed, are kept.
    """
    if since is None:
        async with db.read() as conn:
            oldest = (
                await conn.execute(
                    sa.select(executions.c.started_at).order_by(executions.c.started_at).limit(1)
                )
            ).scalar_one_or_none()
        if oldest is None:
            return 0
        since = oldest
    start = floor_to(since, "hour")
    end = floor_to(until, "hour") if until is not None else None
    repo = RollupRepository(db)
    for tier in ("minute", "hour"):
        await repo.delete(tier, start, end)
    return await backfill(db, since=start, until=end, chunk=chunk, progress=progress)
