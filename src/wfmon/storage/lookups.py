"""Cheap indexed lookups for live views: each is one index probe, whatever the history.

(`HealthCheckRepository.latest` ranks the whole table and `ExecutionRepository.last_slots`
groups it: fine for `wfmon status` once, too slow for a dashboard polled every second.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa

from wfmon.storage.db import Database
from wfmon.storage.records import HealthCheckRecord
from wfmon.storage.tables import UTCDateTime, executions, health_checks
from wfmon.storage.tables_alerts import alerts, notifications


async def latest_checks(db: Database, names: Iterable[str]) -> list[HealthCheckRecord]:
    """The newest row of each named health check (absent ones left out), by name."""
    found = []
    async with db.read() as conn:
        for name in sorted(set(names)):
            query = (
                sa.select(health_checks)
                .where(health_checks.c.name == name)
                .order_by(health_checks.c.checked_at.desc(), health_checks.c.id.desc())
                .limit(1)
            )
            row = (await conn.execute(query)).mappings().first()
            if row is not None:
                found.append(HealthCheckRecord.from_row(row))
    return found


async def last_slots(
    db: Database, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], datetime]:
    """The latest slot dealt with per (workflow, location): a probe of the unique index."""
    found: dict[tuple[str, str], datetime] = {}
    latest = sa.type_coerce(sa.func.max(executions.c.slot_at), UTCDateTime())
    async with db.read() as conn:
        for workflow, location in sorted(set(pairs)):
            query = sa.select(latest).where(
                executions.c.workflow == workflow, executions.c.location == location
            )
            value = (await conn.execute(query)).scalar_one()
            if value is not None:
                found[(workflow, location)] = value
    return found


async def recent_checks(
    db: Database, since: datetime, name: str | None = None, limit: int = 1000
) -> list[HealthCheckRecord]:
    """Health checks at or after `since` (of one name if given): the newest `limit` of
    them, oldest first."""
    query = sa.select(health_checks).where(health_checks.c.checked_at >= since)
    if name is not None:
        query = query.where(health_checks.c.name == name)
    query = query.order_by(health_checks.c.checked_at.desc(), health_checks.c.id.desc())
    async with db.read() as conn:
        rows = (await conn.execute(query.limit(limit))).mappings().all()
    return [HealthCheckRecord.from_row(r) for r in reversed(rows)]


async def count_alerts(db: Database, state: str) -> int:
    """How many alerts are in `state` (alerting's table, read-only)."""
    query = sa.select(sa.func.count()).select_from(alerts).where(alerts.c.state == state)
    async with db.read() as conn:
        return int((await conn.execute(query)).scalar_one())


async def pending_notifications(db: Database) -> int:
    """Notifications waiting in the outbox (alerting's table, read-only)."""
    query = (
        sa.select(sa.func.count())
        .select_from(notifications)
        .where(notifications.c.status == "pending")
    )
    async with db.read() as conn:
        return int((await conn.execute(query)).scalar_one())
