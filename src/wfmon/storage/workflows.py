"""The workflows table: the configured workflows, kept in step with the config files."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from wfmon.domain.workflow import Workflow
from wfmon.storage.db import Database
from wfmon.storage.records import WorkflowRecord
from wfmon.storage.tables import workflows

# Replaced on every change of definition; `created_at` and `id` are kept.
_UPDATED_COLUMNS = ("version", "definition", "schedule", "tags", "enabled", "source", "updated_at")


@dataclass(frozen=True)
class SyncReport:
    """What a sync changed, by workflow name (each tuple sorted)."""

    added: tuple[str, ...] = ()  # new, or back in the config after being removed
    changed: tuple[str, ...] = ()  # a different version (definition hash)
    removed: tuple[str, ...] = ()  # gone from the config; history kept

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed)


def workflow_row(workflow: Workflow, now: datetime) -> dict[str, Any]:
    return {
        "name": workflow.name,
        "version": workflow.version,
        "definition": workflow.definition,
        "schedule": workflow.schedule.describe(),
        "tags": workflow.tags,
        "enabled": workflow.enabled,
        "source": workflow.source,
        "created_at": now,
        "updated_at": now,
        "removed_at": None,
    }


class WorkflowRepository:
    """Reads and syncs `workflows`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
        stmt = insert(workflows)
        # An upsert rather than insert-or-update: two schedulers syncing the same config at
        # once must not trip over the unique name.
        set_: dict[str, Any] = {name: stmt.excluded[name] for name in _UPDATED_COLUMNS}
        set_["removed_at"] = None
        self._upsert = stmt.on_conflict_do_update(index_elements=["name"], set_=set_)

    async def sync(
        self, configured: Sequence[Workflow], now: datetime, *, remove_missing: bool = True
    ) -> SyncReport:
        """Make the table match the config: upsert by name, mark the missing as removed.

        `remove_missing=False` only upserts (a one-off `wfmon check` of one config must not
        mark the daemon's other workflows removed).

        A change is a different `Workflow.version`; a workflow that merely moved in its file
        gets its new `source` without being reported. Removed ones keep their row (and so
        their executions' context) with `removed_at = now`.
        """
        wanted = {w.name: w for w in configured}
        if len(wanted) != len(configured):
            raise ValueError("workflow names must be unique")
        added: builtins.list[str] = []
        changed: builtins.list[str] = []
        rows: builtins.list[dict[str, Any]] = []
        async with self._db.write() as conn:
            current = {
                row.name: row
                for row in await conn.execute(
                    sa.select(
                        workflows.c.name,
                        workflows.c.version,
                        workflows.c.source,
                        workflows.c.removed_at,
                    )
                )
            }
            for name, workflow in wanted.items():
                old = current.get(name)
                if old is None or old.removed_at is not None:
                    added.append(name)
                elif old.version != workflow.version:
                    changed.append(name)
                elif old.source == workflow.source:
                    continue
                rows.append(workflow_row(workflow, now))
            removed = sorted(
                name
                for name, row in current.items()
                if remove_missing and row.removed_at is None and name not in wanted
            )
            if rows:
                await conn.execute(self._upsert, rows)
            if removed:
                await conn.execute(
                    sa.update(workflows)
                    .where(workflows.c.name.in_(removed), workflows.c.removed_at.is_(None))
                    .values(removed_at=now, updated_at=now)
                )
        return SyncReport(tuple(sorted(added)), tuple(sorted(changed)), tuple(removed))

    async def list(self, *, include_removed: bool = False) -> builtins.list[WorkflowRecord]:
        """Workflows by name; those removed from the config only when asked."""
        query = sa.select(workflows).order_by(workflows.c.name)
        if not include_removed:
            query = query.where(workflows.c.removed_at.is_(None))
        async with self._db.read() as conn:
            return [WorkflowRecord.from_row(row) for row in (await conn.execute(query)).mappings()]

    async def get(self, name: str) -> WorkflowRecord | None:
        """One workflow by name, removed or not."""
        query = sa.select(workflows).where(workflows.c.name == name)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else WorkflowRecord.from_row(row)
