"""Anomalies, incidents and detector state: the analytics' rows; and runs read back as the
facts analytics works on (warm-up, the CLI)."""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from wfmon.analytics.baseline import Change
from wfmon.analytics.incidents import Incident
from wfmon.analytics.runs import RunFacts, StepFacts
from wfmon.storage.db import Database
from wfmon.storage.records import clean_text
from wfmon.storage.tables import executions, step_results, workflows
from wfmon.storage.tables_analytics import anomalies, detector_state, incidents


@dataclass(frozen=True)
class AnomalyRecord:
    id: int
    workflow: str
    step: str
    metric: str
    started_at: datetime
    ended_at: datetime | None
    peak_score: float
    value: float
    expected_low: float
    expected_high: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "workflow": self.workflow,
            "step": self.step or None,
            "series": self.metric,
            "started_at": self.started_at.isoformat(),
            "ended_at": None if self.ended_at is None else self.ended_at.isoformat(),
            "open": self.ended_at is None,
            "score": round(self.peak_score, 4),
            "value": self.value,
            "expected": [self.expected_low, self.expected_high],
            "reason": self.reason,
        }


@dataclass(frozen=True)
class IncidentRecord:
    id: int
    key: str
    host: str
    cause: str
    started_at: datetime
    last_at: datetime
    ended_at: datetime | None
    failures: int
    workflows: tuple[str, ...]
    endpoints: tuple[str, ...]
    steps: tuple[str, ...]
    description: str
    example: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "cause": self.cause,
            "started_at": self.started_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "ended_at": None if self.ended_at is None else self.ended_at.isoformat(),
            "open": self.ended_at is None,
            "failures": self.failures,
            "workflows": list(self.workflows),
            "first_seen_in": self.workflows[0] if self.workflows else None,
            "endpoints": list(self.endpoints),
            "steps": list(self.steps),
            "description": self.description,
            "example": self.example,
        }


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class AnalyticsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert

    # -- anomalies ------------------------------------------------------------------------

    async def record_changes(self, changes: Sequence[Change]) -> None:
        """Store episodes that opened or closed (idempotent: upserts on the episode key)."""
        if not changes:
            return
        rows = []
        for change in changes:
            e = change.episode
            rows.append(
                {
                    "workflow": change.workflow,
                    "step": change.step,
                    "metric": change.metric,
                    "started_at": _dt(e.started_at),
                    "ended_at": None if e.ended_at is None else _dt(e.ended_at),
                    "peak_score": e.peak,
                    "value": e.value,
                    "expected_low": e.low,
                    "expected_high": e.high,
                    "reason": clean_text(change.reason) or "",
                }
            )
        stmt = self._insert(anomalies)
        stmt = stmt.on_conflict_do_update(
            index_elements=["workflow", "step", "metric", "started_at"],
            set_={
                "ended_at": stmt.excluded.ended_at,
                "peak_score": sa.func.max(anomalies.c.peak_score, stmt.excluded.peak_score)
                if self._db.dialect == "sqlite"
                else sa.func.greatest(anomalies.c.peak_score, stmt.excluded.peak_score),
            },
        )
        async with self._db.write() as conn:
            for row in rows:  # a handful per run; one statement each keeps upserts simple
                await conn.execute(stmt, row)

    async def anomalies(
        self,
        *,
        workflow: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> builtins.list[AnomalyRecord]:
        """Newest first; `since` on the episode's start (open ones always included)."""
        query = sa.select(anomalies)
        if workflow is not None:
            query = query.where(anomalies.c.workflow == workflow)
        if since is not None:
            query = query.where(
                sa.or_(anomalies.c.started_at >= since, anomalies.c.ended_at.is_(None))
            )
        query = query.order_by(anomalies.c.started_at.desc(), anomalies.c.id.desc())
        async with self._db.read() as conn:
            rows = (await conn.execute(query.limit(max(1, limit)))).mappings().all()
        return [
            AnomalyRecord(
                r["id"],
                r["workflow"],
                r["step"],
                r["metric"],
                r["started_at"],
                r["ended_at"],
                r["peak_score"],
                r["value"],
                r["expected_low"],
                r["expected_high"],
                r["reason"],
            )
            for r in rows
        ]

    # -- incidents ------------------------------------------------------------------------

    async def record_incident(self, incident: Incident) -> None:
        row = {
            "key": incident.key,
            "host": incident.host,
            "cause": incident.cause,
            "started_at": incident.started_at,
            "last_at": incident.last_at,
            "ended_at": incident.ended_at,
            "failures": incident.failures,
            "workflows": list(incident.workflows),
            "endpoints": list(incident.endpoints),
            "steps": list(incident.steps),
            "description": incident.describe(),
            "example": clean_text(incident.example),
        }
        stmt = self._insert(incidents)
        updated = (
            "last_at",
            "ended_at",
            "failures",
            "workflows",
            "endpoints",
            "steps",
            "description",
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"], set_={name: stmt.excluded[name] for name in updated}
        )
        async with self._db.write() as conn:
            await conn.execute(stmt, row)

    async def incidents(
        self,
        *,
        workflow: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        min_failures: int = 2,
    ) -> builtins.list[IncidentRecord]:
        query = sa.select(incidents).where(incidents.c.failures >= min_failures)
        if since is not None:
            query = query.where(
                sa.or_(incidents.c.last_at >= since, incidents.c.ended_at.is_(None))
            )
        query = query.order_by(incidents.c.started_at.desc(), incidents.c.id.desc())
        if workflow is None:
            query = query.limit(max(1, limit))  # else filtered below, on the JSON list
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        found = [
            IncidentRecord(
                r["id"],
                r["key"],
                r["host"],
                r["cause"],
                r["started_at"],
                r["last_at"],
                r["ended_at"],
                r["failures"],
                tuple(r["workflows"]),
                tuple(r["endpoints"]),
                tuple(r["steps"]),
                r["description"],
                r["example"],
            )
            for r in rows
        ]
        if workflow is not None:  # JSON membership differs per engine; the list is short
            found = [i for i in found if workflow in i.workflows]
        return found[: max(1, limit)]

    # -- detector state -------------------------------------------------------------------

    async def save_states(
        self, states: Mapping[str, tuple[dict[str, Any], datetime | None]], now: datetime
    ) -> None:
        if not states:
            return
        rows = [
            {"workflow": w, "state": s, "last_at": last, "updated_at": now}
            for w, (s, last) in states.items()
        ]
        stmt = self._insert(detector_state)
        stmt = stmt.on_conflict_do_update(
            index_elements=["workflow"],
            set_={n: stmt.excluded[n] for n in ("state", "last_at", "updated_at")},
        )
        async with self._db.write() as conn:
            await conn.execute(stmt, rows)

    async def load_states(self) -> dict[str, dict[str, Any]]:
        async with self._db.read() as conn:
            rows = (await conn.execute(sa.select(detector_state))).mappings().all()
        return {r["workflow"]: r["state"] for r in rows}

    # -- history as facts -----------------------------------------------------------------

    async def definitions(self) -> builtins.list[tuple[str, dict[str, Any]]]:
        """(name, definition) of every configured workflow (for its steps' limits)."""
        query = sa.select(workflows.c.name, workflows.c.definition).where(
            workflows.c.removed_at.is_(None)
        )
        async with self._db.read() as conn:
            return [
                (name, definition if isinstance(definition, dict) else {})
                for name, definition in await conn.execute(query)
            ]

    async def runs(
        self,
        *,
        since: datetime | None = None,
        workflow: str | None = None,
        limit: int = 200_000,
        newest: bool = False,
    ) -> builtins.list[RunFacts]:
        """Finished executions with their steps, oldest first (started after `since`); at
        most `limit`, the oldest ones, or the newest ones when `newest`."""
        query = sa.select(
            executions.c.id,
            executions.c.workflow,
            executions.c.started_at,
            executions.c.status,
            executions.c.duration_ms,
            executions.c.error,
            executions.c.attempts,
        ).where(executions.c.status != "running")
        if since is not None:
            query = query.where(executions.c.started_at > since)
        if workflow is not None:
            query = query.where(executions.c.workflow == workflow)
        if newest:
            query = query.order_by(executions.c.started_at.desc(), executions.c.id.desc())
        else:
            query = query.order_by(executions.c.started_at, executions.c.id)
        query = query.limit(limit)
        steps_query = sa.select(
            step_results.c.execution_id,
            step_results.c.name,
            step_results.c.status,
            step_results.c.total_ms,
            step_results.c.ttfb_ms,
            step_results.c.error,
            step_results.c.request,
            step_results.c.response_status,
        ).order_by(step_results.c.execution_id, step_results.c.position)
        async with self._db.read() as conn:
            rows = list((await conn.execute(query)).all())
            if newest:
                rows.reverse()
            if not rows:
                return []
            ids = [r[0] for r in rows]
            by_execution: dict[int, list[StepFacts]] = defaultdict(list)
            for chunk in range(0, len(ids), 5000):
                part = ids[chunk : chunk + 5000]
                stmt = steps_query.where(step_results.c.execution_id.in_(part))
                for s in await conn.execute(stmt):
                    request = s[6] if isinstance(s[6], dict) else {}
                    by_execution[s[0]].append(
                        StepFacts(
                            s[1],
                            s[2],
                            s[3],
                            s[4],
                            s[5],
                            _text(request.get("method")),
                            _text(request.get("url")),
                            s[7],
                        )
                    )
        return [
            RunFacts(r[1], r[2], r[3], r[4], r[5], tuple(by_execution.get(r[0], ())), r[6])
            for r in rows
        ]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
