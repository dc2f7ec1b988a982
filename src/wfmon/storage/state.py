"""Small named facts the application keeps about itself (`api_state`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from wfmon.storage.db import Database
from wfmon.storage.tables_api import api_state


class StateRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
        self._claim = (
            insert(api_state)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(api_state.c.name)
        )

    async def claim(self, name: str, value: str, now: datetime) -> bool:
        """Set `name` unless it is set: True for the one caller (of any process) that set
        it, which makes it a once-only guard (e.g. the first backfill of rollups)."""
        row = {"name": name, "value": value, "updated_at": now}
        async with self._db.write() as conn:
            return (await conn.execute(self._claim, row)).first() is not None

    async def get(self, name: str) -> str | None:
        async with self._db.read() as conn:
            query = sa.select(api_state.c.value).where(api_state.c.name == name)
            value: str | None = (await conn.execute(query)).scalar_one_or_none()
        return value
