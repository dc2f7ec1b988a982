"""Silences: created in config (kept in step by `sync_config`), by the CLI or the API."""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from wfmon.alerts.config import SilenceSpec
from wfmon.domain.alert import Silence
from wfmon.storage.db import Database
from wfmon.storage.tables_alerts import silences

CONFIG = "config"
_COMPARED = (
    *("workflows", "tags", "locations", "starts_at", "ends_at", "cron", "duration_s"),
    *("timezone", "author", "comment"),
)


def silence_from_row(row: Any) -> Silence:
    return Silence(
        id=row["id"],
        name=row["name"],
        source=row["source"],
        author=row["author"],
        comment=row["comment"],
        created_at=row["created_at"],
        workflows=tuple(row["workflows"] or ()),
        tags=tuple(row["tags"] or ()),
        locations=tuple(row["locations"] or ()),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        cron=row["cron"],
        duration_s=row["duration_s"],
        timezone=row["timezone"],
        expired_at=row["expired_at"],
    )


def spec_row(spec: SilenceSpec) -> dict[str, Any]:
    """The row of a config silence. Unnamed ones are named by a hash of their content, so
    an unchanged config maps to the same rows on every start."""
    name = spec.name or "config-" + hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:12]
    return {
        "name": name,
        "source": CONFIG,
        "workflows": list(spec.workflows),
        "tags": list(spec.tags),
        "locations": list(spec.locations),
        "starts_at": spec.starts_at(),
        "ends_at": spec.ends_at(),
        "cron": spec.cron,
        "duration_s": spec.duration,
        "timezone": spec.timezone,
        "author": spec.author,
        "comment": spec.comment,
    }


class SilenceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(self, *, include_expired: bool = False) -> builtins.list[Silence]:
        query = sa.select(silences).order_by(silences.c.id)
        if not include_expired:
            query = query.where(silences.c.expired_at.is_(None))
        async with self._db.read() as conn:
            return [silence_from_row(r) for r in (await conn.execute(query)).mappings()]

    async def get(self, silence_id: int) -> Silence | None:
        query = sa.select(silences).where(silences.c.id == silence_id)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else silence_from_row(row)

    async def add(
        self,
        *,
        source: str,
        author: str,
        comment: str,
        now: datetime,
        name: str | None = None,
        workflows: Sequence[str] = (),
        tags: Sequence[str] = (),
        locations: Sequence[str] = (),
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        cron: str | None = None,
        duration_s: float | None = None,
        timezone: str = "UTC",
    ) -> Silence:
        row = {
            "name": name,
            "source": source,
            "workflows": list(workflows),
            "tags": list(tags),
            "locations": list(locations),
            "starts_at": starts_at,
            "ends_at": ends_at,
            "cron": cron,
            "duration_s": duration_s,
            "timezone": timezone,
            "author": author,
            "comment": comment,
            "created_at": now,
            "expired_at": None,
        }
        async with self._db.write() as conn:
            insert = sa.insert(silences).returning(silences.c.id)
            silence_id = int((await conn.execute(insert, row)).scalar_one())
        return silence_from_row({**row, "id": silence_id})

    async def expire(self, silence_id: int, now: datetime) -> bool:
        """End a silence now; False if there is none by that id or it had ended already."""
        update = (
            sa.update(silences)
            .where(silences.c.id == silence_id, silences.c.expired_at.is_(None))
            .values(expired_at=now)
            .returning(silences.c.id)
        )
        async with self._db.write() as conn:
            return (await conn.execute(update)).first() is not None

    async def sync_config(self, specs: Sequence[SilenceSpec], now: datetime) -> tuple[int, int]:
        """Make the config silences in the table match the config: (added or changed,
        ended). One expired by hand stays expired until its config entry changes."""
        wanted = {row["name"]: row for row in map(spec_row, specs)}
        changed = ended = 0
        async with self._db.write() as conn:
            query = sa.select(silences).where(silences.c.source == CONFIG)
            current = {r["name"]: r for r in (await conn.execute(query)).mappings()}
            for name, row in wanted.items():
                old = current.get(name)
                if old is None:
                    await conn.execute(
                        sa.insert(silences), {**row, "created_at": now, "expired_at": None}
                    )
                    changed += 1
                elif any(old[k] != row[k] for k in _COMPARED):
                    await conn.execute(
                        sa.update(silences)
                        .where(silences.c.id == old["id"])
                        .values(**row, expired_at=None)
                    )
                    changed += 1
            gone = [r["id"] for n, r in current.items() if n not in wanted and not r["expired_at"]]
            if gone:
                await conn.execute(
                    sa.update(silences).where(silences.c.id.in_(gone)).values(expired_at=now)
                )
                ended = len(gone)
        return changed, ended
