"""The event log: every live event as a row, so any process can follow it by id.

The id is the SSE event id, and readers poll `id > last`. That only works if ids become
visible in order: on PostgreSQL two transactions can commit ids 10 and 9 in that order, and
a reader that saw 10 would skip 9 for good. Appends therefore take a transaction-scoped
advisory lock (they are tiny and batched, so it costs nothing measurable); SQLite
serialises writers anyway.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from wfmon.storage.db import Database
from wfmon.storage.tables_api import event_log

_APPEND_LOCK_KEY = 0x77666D6F6E + 3  # "wfmon" + 3: distinct from the migration lock


@dataclass(frozen=True)
class StoredEvent:
    id: int
    kind: str
    data: dict[str, Any]
    created_at: datetime


class EventLogRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(
        self, events: Sequence[tuple[str, Mapping[str, Any]]], now: datetime
    ) -> builtins.list[int]:
        """Store (kind, data) pairs in order; returns their ids."""
        if not events:
            return []
        rows = [{"kind": kind, "data": dict(data), "created_at": now} for kind, data in events]
        stmt = sa.insert(event_log).returning(event_log.c.id, sort_by_parameter_order=True)
        async with self._db.write() as conn:
            if self._db.dialect == "postgresql":
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_APPEND_LOCK_KEY)))
            result = await conn.execute(stmt, rows)
            return [int(i) for i in result.scalars()]

    async def after(
        self, last_id: int, limit: int = 1000, kinds: Collection[str] | None = None
    ) -> builtins.list[StoredEvent]:
        """Events with id > last_id, oldest first."""
        query = sa.select(event_log).where(event_log.c.id > last_id)
        if kinds:
            query = query.where(event_log.c.kind.in_(sorted(kinds)))
        query = query.order_by(event_log.c.id).limit(limit)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            StoredEvent(r["id"], r["kind"], dict(r["data"] or {}), r["created_at"]) for r in rows
        ]

    async def latest_id(self) -> int:
        """The newest id, 0 when empty."""
        async with self._db.read() as conn:
            value = (await conn.execute(sa.select(sa.func.max(event_log.c.id)))).scalar_one()
        return int(value or 0)

    async def prune(self, before: datetime, batch: int = 5000) -> int:
        """Delete events created before `before`, oldest first, at most `batch` rows."""
        oldest = (
            sa.select(event_log.c.id)
            .where(event_log.c.created_at < before)
            .order_by(event_log.c.id)
            .limit(batch)
        )
        stmt = sa.delete(event_log).where(event_log.c.id.in_(oldest.scalar_subquery()))
        async with self._db.write() as conn:
            result = await conn.execute(stmt)
            return int(result.rowcount or 0)
