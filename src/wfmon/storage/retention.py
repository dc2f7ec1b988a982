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


async def prune_executions(db: Database, before: datetime, batch: int = 2000) -> int:
    """Delete up to `batch` executions (and their steps) started before `before`, oldest
    first; returns how many. Running ones are kept whatever their age."""
    oldest = (
        sa.select(executions.c.id)
        .where(executions.c.started_at < before, executions.c.status != "running")
        .order_by(executions.c.id)
        .limit(batch)
    )
    async with db.write() as conn:
        result = await conn.execute(sa.delete(executions).where(executions.c.id.in_(oldest)))
        return int(result.rowcount or 0)


async def prune_health_checks(db: Database, before: datetime, batch: int = 5000) -> int:
    """Delete up to `batch` health-check rows older than `before`; returns how many."""
    oldest = (
        sa.select(health_checks.c.id)
        .where(health_checks.c.checked_at < before)
        .order_by(health_checks.c.id)
        .limit(batch)
    )
    async with db.write() as conn:
        result = await conn.execute(sa.delete(health_checks).where(health_checks.c.id.in_(oldest)))
        return int(result.rowcount or 0)


async def prune_notifications(db: Database, before: datetime, batch: int = 2000) -> int:
    """Delete up to `batch` delivered (`sent`) or given-up (`dead`) notifications created
    before `before`; pending ones are kept whatever their age (the sender still owes them)."""
    oldest = (
        sa.select(notifications.c.id)
        .where(notifications.c.created_at < before, notifications.c.status.in_(("sent", "dead")))
        .order_by(notifications.c.id)
        .limit(batch)
    )
    async with db.write() as conn:
        result = await conn.execute(sa.delete(notifications).where(notifications.c.id.in_(oldest)))
        return int(result.rowcount or 0)


async def prune_resolved_alerts(db: Database, before: datetime, batch: int = 500) -> int:
    """Delete up to `batch` alerts resolved before `before`, with their audit trail and
    notifications (by cascade); firing and acknowledged alerts are never pruned."""
    oldest = (
        sa.select(alerts.c.id)
        .where(alerts.c.state == "resolved", alerts.c.changed_at < before)
        .order_by(alerts.c.id)
        .limit(batch)
    )
    async with db.write() as conn:
        result = await conn.execute(sa.delete(alerts).where(alerts.c.id.in_(oldest)))
        return int(result.rowcount or 0)


async def prune_analytics(db: Database, before: datetime, batch: int = 2000) -> int:
    """Delete up to `batch` anomaly episodes and incidents that ended before `before`
    (open ones are kept); returns how many."""
    removed = 0
    async with db.write() as conn:
        for table in (anomalies, incidents):
            oldest = (
                sa.select(table.c.id)
                .where(table.c.ended_at.is_not(None), table.c.ended_at < before)
                .order_by(table.c.id)
                .limit(batch)
            )
            result = await conn.execute(sa.delete(table).where(table.c.id.in_(oldest)))
            removed += int(result.rowcount or 0)
    return removed
