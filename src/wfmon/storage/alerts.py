"""Alerts and their audit trail: reading the current episode of each problem, applying the
planner's changes atomically, and the history an auditor reads."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from wfmon.alerts.changes import Change, Conflict, OutboxDraft
from wfmon.domain.alert import (
    Alert,
    AlertEvent,
    AlertState,
    EventKind,
    NotificationStatus,
    Severity,
)
from wfmon.storage.db import Database
from wfmon.storage.tables_alerts import alert_events, alerts, notifications

_CHUNK = 500  # keys per IN (...): far below every engine's parameter limit


def alert_from_row(row: Any) -> Alert:
    return Alert(
        id=row["id"],
        dedup_key=row["dedup_key"],
        episode=row["episode"],
        rule=row["rule"],
        kind=row["kind"],
        severity=Severity(row["severity"]),
        state=AlertState(row["state"]),
        summary=row["summary"],
        workflow=row["workflow"],
        location=row["location"],
        group_key=row["group_key"],
        tags=tuple(row["tags"] or ()),
        opened_at=row["opened_at"],
        changed_at=row["changed_at"],
        acknowledged_by=row["acknowledged_by"],
        resolved_by=row["resolved_by"],
        notified_state=AlertState(row["notified_state"]) if row["notified_state"] else None,
        notified_at=row["notified_at"],
        muted_by=row["muted_by"],
        details=dict(row["details"] or {}),
        version=row["version"],
    )


def event_from_row(row: Any) -> AlertEvent:
    return AlertEvent(
        id=row["id"],
        alert_id=row["alert_id"],
        at=row["at"],
        actor=row["actor"],
        kind=EventKind(row["kind"]),
        from_state=AlertState(row["from_state"]) if row["from_state"] else None,
        to_state=AlertState(row["to_state"]),
        reason=row["reason"],
        message=row["message"],
        execution_ids=tuple(row["execution_ids"] or ()),
        note=row["note"],
        data=dict(row["data"] or {}),
        dedup_key=row.get("dedup_key", ""),
        workflow=row.get("workflow"),
    )


class AlertRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- reads ----------------------------------------------------------------------------

    async def latest(self, keys: Collection[str]) -> dict[str, Alert]:
        """The newest episode of each dedup key that has one."""
        found: dict[str, Alert] = {}
        wanted = sorted(set(keys))
        newer = alerts.alias("newer")
        async with self._db.read() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                later = sa.exists().where(
                    newer.c.dedup_key == alerts.c.dedup_key, newer.c.episode > alerts.c.episode
                )
                query = sa.select(alerts).where(alerts.c.dedup_key.in_(chunk), ~later)
                for row in (await conn.execute(query)).mappings():
                    found[row["dedup_key"]] = alert_from_row(row)
        return found

    async def get(self, alert_id: int) -> Alert | None:
        async with self._db.read() as conn:
            query = sa.select(alerts).where(alerts.c.id == alert_id)
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else alert_from_row(row)

    async def list(
        self,
        *,
        states: Collection[AlertState] | None = None,
        workflow: str | None = None,
        limit: int = 100,
    ) -> builtins.list[Alert]:
        """Newest first."""
        query = sa.select(alerts).order_by(alerts.c.changed_at.desc(), alerts.c.id.desc())
        if states:
            query = query.where(alerts.c.state.in_([s.value for s in states]))
        if workflow is not None:
            query = query.where(alerts.c.workflow == workflow)
        async with self._db.read() as conn:
            rows = (await conn.execute(query.limit(max(1, limit)))).mappings()
            return [alert_from_row(r) for r in rows]

    async def needing_attention(self) -> builtins.list[Alert]:
        """Open alerts, and resolved ones whose receivers still think them firing: what
        the periodic check looks at (reminders, held notices)."""
        query = sa.select(alerts).where(
            sa.or_(
                alerts.c.state != AlertState.RESOLVED.value,
                alerts.c.notified_state == AlertState.FIRING.value,
            )
        )
        async with self._db.read() as conn:
            return [alert_from_row(r) for r in (await conn.execute(query)).mappings()]

    async def followers(self, alert_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
        """Channels each alert was notified on (sent, pending or dead): who hears the rest."""
        found: dict[int, builtins.list[str]] = {}
        ids = sorted(set(alert_ids))
        async with self._db.read() as conn:
            for start in range(0, len(ids), _CHUNK):
                query = (
                    sa.select(notifications.c.alert_id, notifications.c.channel)
                    .where(notifications.c.alert_id.in_(ids[start : start + _CHUNK]))
                    .distinct()
                    .order_by(notifications.c.alert_id, notifications.c.channel)
                )
                for alert_id, channel in await conn.execute(query):
                    found.setdefault(alert_id, []).append(channel)
        return {k: tuple(v) for k, v in found.items()}

    async def history(
        self,
        *,
        alert_id: int | None = None,
        workflow: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> builtins.list[AlertEvent]:
        """Alert events, oldest first (the audit trail), with each alert's key."""
        query = sa.select(alert_events, alerts.c.dedup_key, alerts.c.workflow).join(
            alerts, alerts.c.id == alert_events.c.alert_id
        )
        if alert_id is not None:
            query = query.where(alert_events.c.alert_id == alert_id)
        if workflow is not None:
            query = query.where(alerts.c.workflow == workflow)
        if since is not None:
            query = query.where(alert_events.c.at >= since)
        if until is not None:
            query = query.where(alert_events.c.at < until)
        query = query.order_by(alert_events.c.at, alert_events.c.id)
        if limit is not None:
            query = query.limit(limit)
        async with self._db.read() as conn:
            return [event_from_row(r) for r in (await conn.execute(query)).mappings()]

    async def dead_notifications(self) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(notifications)
            .where(notifications.c.status == NotificationStatus.DEAD.value)
        )
        async with self._db.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    # -- writes ---------------------------------------------------------------------------

    async def apply(self, changes: Sequence[Change]) -> builtins.list[tuple[int, int | None]]:
        """Write every change in one transaction: alert, event, outbox rows. Returns (alert
        id, event id or None) per change. Raises `Conflict` (and writes nothing) if any
        alert moved on meanwhile.

        New alerts, events and outbox rows go in as one multi-row INSERT each (1,000
        workflows failing at once is one transaction of a few statements, not 3,000)."""
        if not changes:
            return []
        async with self._db.write() as conn:
            ids = await _insert_new(conn, [c for c in changes if c.new is not None])
            alert_ids: builtins.list[int] = []
            for change in changes:
                if change.new is not None:
                    alert_ids.append(ids[(change.new.dedup_key, change.new.episode)])
                else:
                    alert_ids.append(await _update(conn, change))
            with_events = [(a, c) for a, c in zip(alert_ids, changes, strict=True) if c.event]
            event_ids = await _insert_events(conn, with_events)
            outbox = [
                _outbox_row(event_ids[alert_id], alert_id, change, draft)
                for alert_id, change in with_events
                for draft in change.outbox
            ]
            if outbox:
                await conn.execute(sa.insert(notifications), outbox)
        return [
            (alert_id, event_ids.get(alert_id) if change.event else None)
            for alert_id, change in zip(alert_ids, changes, strict=True)
        ]


async def _insert_new(
    conn: AsyncConnection, changes: Sequence[Change]
) -> dict[tuple[str, int], int]:
    """Insert new episodes; (dedup key, episode) -> id. Rows come back in no set order
    (asking for one makes SQLite insert row by row), so the unique key maps them."""
    rows = []
    for change in changes:
        new = change.new
        assert new is not None
        rows.append(
            {
                "dedup_key": new.dedup_key,
                "episode": new.episode,
                "rule": new.rule,
                "kind": new.kind,
                "severity": new.severity.value,
                "state": AlertState.FIRING.value,
                "summary": new.summary,
                "workflow": new.workflow,
                "location": new.location,
                "group_key": new.group_key,
                "tags": list(new.tags),
                "opened_at": new.opened_at,
                "changed_at": new.opened_at,
                "acknowledged_by": None,
                "resolved_by": None,
                "notified_state": None,
                "notified_at": None,
                "muted_by": None,
                "details": dict(new.details),
                "version": 1,
                **change.values,
            }
        )
    if not rows:
        return {}
    insert = sa.insert(alerts).returning(alerts.c.id, alerts.c.dedup_key, alerts.c.episode)
    # An episode someone else opened first: savepoint, so the caller can re-plan.
    try:
        async with conn.begin_nested():
            result = await conn.execute(insert, rows)
            return {(key, episode): alert_id for alert_id, key, episode in result}
    except sa.exc.IntegrityError as error:
        raise Conflict(f"{len(rows)} new alert(s): another writer opened one first") from error


async def _update(conn: AsyncConnection, change: Change) -> int:
    assert change.alert_id is not None
    assert change.version is not None
    update = (
        sa.update(alerts)
        .where(alerts.c.id == change.alert_id, alerts.c.version == change.version)
        .values(**change.values, version=change.version + 1)
        .returning(alerts.c.id)
    )
    if (await conn.execute(update)).first() is None:
        raise Conflict(f"alert {change.alert_id} changed since version {change.version}")
    return change.alert_id


async def _insert_events(
    conn: AsyncConnection, with_events: Sequence[tuple[int, Change]]
) -> dict[int, int]:
    """alert id -> its new event's id (one event per alert per pass, by construction)."""
    rows = []
    for alert_id, change in with_events:
        event = change.event
        assert event is not None
        rows.append(
            {
                "alert_id": alert_id,
                "at": event.at,
                "actor": event.actor,
                "kind": event.kind.value,
                "from_state": event.from_state.value if event.from_state else None,
                "to_state": event.to_state.value,
                "reason": event.reason,
                "message": event.message,
                "execution_ids": list(event.execution_ids),
                "note": event.note,
                "data": dict(event.data),
            }
        )
    if not rows:
        return {}
    if len({row["alert_id"] for row in rows}) != len(rows):
        raise ValueError("one event per alert per transaction")
    insert = sa.insert(alert_events).returning(alert_events.c.id, alert_events.c.alert_id)
    return {alert_id: event_id for event_id, alert_id in await conn.execute(insert, rows)}


def _outbox_row(event_id: int, alert_id: int, change: Change, draft: OutboxDraft) -> dict[str, Any]:
    assert change.event is not None
    return {
        "event_id": event_id,
        "alert_id": alert_id,
        "channel": draft.channel,
        "group_key": draft.group_key,
        "status": NotificationStatus.PENDING.value,
        "created_at": change.event.at,
        "due_at": draft.due_at,
        "attempts": 0,
    }
