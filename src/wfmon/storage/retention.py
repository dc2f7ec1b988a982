"""Deleting what is past its retention, a small batch per transaction.

A single DELETE of a day of executions (with their steps, by cascade) would hold SQLite's
write lock for seconds and stall the recorder; batches of a few thousand rows keep every
transaction short, and the caller yields between them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from wfmon.storage.db import Database
from wfmon.storage.tables import executions, health_checks
from wfmon.storage.tables_alerts import alerts, notifications
from wfmon.storage.tables_analytics import anomalies, incidents


async def _delete_oldest(
    db: Database, table: sa.Table, condition: sa.ColumnElement[bool], batch: int
) -> int:
    """Delete up to `batch` rows of `table` matching `condition`, lowest ids first."""
    oldest = sa.select(table.c.id).where(condition).order_by(table.c.id).limit(batch)
    async with db.write() as conn:
        result = await conn.execute(sa.delete(table).where(table.c.id.in_(oldest)))
        return int(result.rowcount or 0)


async def prune_executions(db: Database, before: datetime, batch: int = 2000) -> int:
    """Delete up to `batch` executions (and their steps) started before `before`, oldest
    first; returns how many. Running ones are kept whatever their age."""
    condition = sa.and_(executions.c.started_at < before, executions.c.status != "running")
    return await _delete_oldest(db, executions, condition, batch)


async def prune_health_checks(db: Database, before: datetime, batch: int = 5000) -> int:
    """Delete up to `batch` health-check rows older than `before`; returns how many."""
    return await _delete_oldest(db, health_checks, health_checks.c.checked_at < before, batch)


async def prune_notifications(db: Database, before: datetime, batch: int = 2000) -> int:
    """Delete up to `batch` delivered (`sent`) or given-up (`dead`) notifications created
    before `before`; pending ones are kept whatever their age (the sender still owes them)."""
    condition = sa.and_(
        notifications.c.created_at < before, notifications.c.status.in_(("sent", "dead"))
    )
    return await _delete_oldest(db, notifications, condition, batch)


async def prune_resolved_alerts(db: Database, before: datetime, batch: int = 500) -> int:
    """Delete up to `batch` alerts resolved before `before`, with their audit trail and
    notifications (by cascade); firing and acknowledged alerts are never pruned."""
    condition = sa.and_(alerts.c.state == "resolved", alerts.c.changed_at < before)
    return await _delete_oldest(db, alerts, condition, batch)


async def prune_analytics(db: Database, before: datetime, batch: int = 2000) -> int:
    """Delete up to `batch` anomaly episodes and as many incidents that ended before
    `before` (open ones are kept); returns how many."""
    removed = 0
    for table in (anomalies, incidents):
        condition = sa.and_(table.c.ended_at.is_not(None), table.c.ended_at < before)
        removed += await _delete_oldest(db, table, condition, batch)
    return removed
