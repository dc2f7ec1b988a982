"""The bot's own health checks (database, scheduler lag, disk, ...), one row per check."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from wfmon.storage.db import Database
from wfmon.storage.records import HealthCheckRecord
from wfmon.storage.tables import health_checks


class HealthCheckRepository:
    """Appends and reads `health_checks`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        checked_at: datetime,
        name: str,
        ok: bool,
        latency_ms: float | None = None,
        detail: str = "",
        data: Mapping[str, Any] | None = None,
    ) -> int:
        """Record one check; returns its id."""
        row = {
            "checked_at": checked_at,
            "name": name,
            "ok": ok,
            "latency_ms": latency_ms,
            "detail": detail,
            "data": dict(data or {}),
        }
        stmt = sa.insert(health_checks).returning(health_checks.c.id)
        async with self._db.write() as conn:
            return int((await conn.execute(stmt, row)).scalar_one())

    async def latest(self) -> builtins.list[HealthCheckRecord]:
        """The most recent result of each check, by name."""
        ranked = sa.select(
            health_checks,
            sa.func.row_number()
            .over(
                partition_by=health_checks.c.name,
                order_by=(health_checks.c.checked_at.desc(), health_checks.c.id.desc()),
            )
            .label("rank"),
        ).subquery()
        query = (
            sa.select(*(ranked.c[c.name] for c in health_checks.columns))
            .where(ranked.c.rank == 1)
            .order_by(ranked.c.name)
        )
        return await self._fetch(query)

    async def list(
        self, since: datetime, name: str | None = None
    ) -> builtins.list[HealthCheckRecord]:
        """Checks at or after `since`, oldest first; of one check when `name` is given."""
        query = sa.select(health_checks).where(health_checks.c.checked_at >= since)
        if name is not None:
            query = query.where(health_checks.c.name == name)
        return await self._fetch(query.order_by(health_checks.c.checked_at, health_checks.c.id))

    async def prune(self, before: datetime) -> int:
        """Delete checks older than `before` (retention); returns how many."""
        stmt = (
            sa.delete(health_checks)
            .where(health_checks.c.checked_at < before)
            .returning(health_checks.c.id)
        )
        async with self._db.write() as conn:
            return len((await conn.execute(stmt)).all())

    async def _fetch(self, query: sa.Select[Any]) -> builtins.list[HealthCheckRecord]:
        async with self._db.read() as conn:
            return [HealthCheckRecord.from_row(r) for r in (await conn.execute(query)).mappings()]
