"""The notification outbox: claiming due rows atomically, recording what the receiver said.

Claiming is a conditional UPDATE (`... WHERE claimed_until IS NULL OR claimed_until < now`)
inside a write transaction, after `SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL (so
senders skip each other's rows instead of waiting) and under SQLite's single writer
(BEGIN IMMEDIATE): several senders can run against one database and no row is sent by two
at once. A sender that dies holding a claim leaves it to expire (`claimed_until`), or to be
released by its own next start (`release`): the batch is then sent again, with the same
delivery id (at least once, never lost).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from wfmon.alerts.messages import NoticeItem
from wfmon.domain.alert import (
    AlertState,
    EventKind,
    Notification,
    NotificationStatus,
    Severity,
)
from wfmon.storage.db import Database
from wfmon.storage.records import clean_text
from wfmon.storage.tables import UTCDateTime
from wfmon.storage.tables_alerts import alert_events, alerts, notifications

PENDING = NotificationStatus.PENDING.value


@dataclass(frozen=True)
class Batch:
    """Rows for one channel sent as one message."""

    batch_id: int
    channel: str
    group_key: str
    attempts: int  # attempts made before this one
    created_at: datetime  # of the oldest row: the max age counts from here
    items: tuple[NoticeItem, ...]


def notification_from_row(row: Any) -> Notification:
    return Notification(
        id=row["id"],
        event_id=row["event_id"],
        alert_id=row["alert_id"],
        channel=row["channel"],
        group_key=row["group_key"],
        status=NotificationStatus(row["status"]),
        created_at=row["created_at"],
        due_at=row["due_at"],
        attempts=row["attempts"],
        batch_id=row["batch_id"],
        claimed_by=row["claimed_by"],
        claimed_until=row["claimed_until"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
        last_code=row["last_code"],
        answer=row["answer"],
    )


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(
        self, instance: str, now: datetime, hold_s: float, limit: int = 200
    ) -> builtins.list[Batch]:
        """Claim due rows for `hold_s` seconds, as batches (new rows of one channel, group key
        and due time become one batch; a batch claimed before comes back whole)."""
        free = sa.or_(notifications.c.claimed_until.is_(None), notifications.c.claimed_until < now)
        claim = {"claimed_by": instance, "claimed_until": now + timedelta(seconds=hold_s)}
        due = (
            sa.select(
                notifications.c.id,
                notifications.c.batch_id,
                notifications.c.channel,
                notifications.c.group_key,
                notifications.c.due_at,
            )
            .where(notifications.c.status == PENDING, notifications.c.due_at <= now, free)
            .order_by(notifications.c.due_at, notifications.c.id)
            .limit(limit)
        )
        if self._db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        batch_ids: builtins.list[int] = []
        async with self._db.write() as conn:
            groups: dict[tuple[Any, ...], None] = {}  # ordered: oldest due first
            for _id, batch_id, channel, group, due_at in await conn.execute(due):
                # New rows go together when grouping planned them together (one channel,
                # one group key, one due time); with grouping off each has its own time.
                key: tuple[Any, ...] = (
                    ("batch", batch_id) if batch_id else ("new", channel, group, due_at)
                )
                groups.setdefault(key, None)
            pending = notifications.c.status == PENDING
            for key in groups:
                if key[0] == "batch":
                    where = [notifications.c.batch_id == key[1]]
                else:
                    # The whole group, also its rows beyond this round's limit: one message.
                    where = [
                        notifications.c.channel == key[1],
                        notifications.c.group_key == key[2],
                        notifications.c.due_at == key[3],
                        notifications.c.batch_id.is_(None),
                    ]
                update = (
                    sa.update(notifications)
                    .where(*where, pending, free)
                    .values(**claim)
                    .returning(notifications.c.id)
                )
                got = sorted(r for (r,) in await conn.execute(update))
                if not got:
                    continue
                if key[0] == "batch":
                    batch_ids.append(key[1])
                    continue
                # The batch is named by its smallest row: fixed now, so a retry or a
                # re-send after a crash goes out with the same delivery id.
                await conn.execute(
                    sa.update(notifications)
                    .where(notifications.c.id.in_(got))
                    .values(batch_id=got[0])
                )
                batch_ids.append(got[0])
        return await self._batches(batch_ids)

    async def _batches(self, batch_ids: builtins.list[int]) -> builtins.list[Batch]:
        if not batch_ids:
            return []
        query = (
            sa.select(
                notifications.c.batch_id,
                notifications.c.channel,
                notifications.c.group_key,
                notifications.c.attempts,
                notifications.c.created_at,
                alert_events,
                alerts.c.dedup_key,
                alerts.c.rule,
                alerts.c.kind.label("alert_kind"),
                alerts.c.severity,
                alerts.c.summary,
                alerts.c.workflow,
                alerts.c.location,
            )
            .join(alert_events, alert_events.c.id == notifications.c.event_id)
            .join(alerts, alerts.c.id == notifications.c.alert_id)
            .where(notifications.c.batch_id.in_(batch_ids))
            .order_by(notifications.c.batch_id, notifications.c.id)
        )
        found: dict[int, builtins.list[Any]] = {}
        async with self._db.read() as conn:
            for row in (await conn.execute(query)).mappings():
                found.setdefault(row["batch_id"], []).append(row)
        return [
            Batch(
                batch_id=batch_id,
                channel=rows[0]["channel"],
                group_key=rows[0]["group_key"],
                attempts=max(r["attempts"] for r in rows),
                created_at=min(r["created_at"] for r in rows),
                items=tuple(_item(r) for r in rows),
            )
            for batch_id, rows in found.items()
        ]

    async def sent(self, batch_id: int, now: datetime, code: int | None, answer: str) -> int:
        """The receiver accepted the batch; returns how many rows it covered."""
        return await self._update(
            batch_id,
            status=NotificationStatus.SENT.value,
            sent_at=now,
            last_code=code,
            answer=clean_text(answer),
            last_error=None,
            attempts=notifications.c.attempts + 1,
            claimed_until=None,
        )

    async def failed(
        self,
        batch_id: int,
        *,
        retry_at: datetime | None,
        error: str,
        code: int | None,
    ) -> int:
        """A failed attempt: retry at `retry_at`, or dead when it is None."""
        status = NotificationStatus.PENDING if retry_at is not None else NotificationStatus.DEAD
        values: dict[str, Any] = {
            "status": status.value,
            "last_error": clean_text(error),
            "last_code": code,
            "attempts": notifications.c.attempts + 1,
            "claimed_until": None,
        }
        if retry_at is not None:
            values["due_at"] = retry_at
        return await self._update(batch_id, **values)

    async def _update(self, batch_id: int, **values: Any) -> int:
        update = (
            sa.update(notifications)
            .where(notifications.c.batch_id == batch_id, notifications.c.status == PENDING)
            .values(**values)
            .returning(notifications.c.id)
        )
        async with self._db.write() as conn:
            return len((await conn.execute(update)).all())

    async def release(self, instance: str) -> int:
        """Give back the claims `instance` held when it died (on its next start)."""
        update = (
            sa.update(notifications)
            .where(
                notifications.c.claimed_by == instance,
                notifications.c.status == PENDING,
                notifications.c.claimed_until.is_not(None),
            )
            .values(claimed_until=None)
            .returning(notifications.c.id)
        )
        async with self._db.write() as conn:
            return len((await conn.execute(update)).all())

    async def open_groups(self, now: datetime) -> dict[tuple[str, str], datetime]:
        """(channel, group key) -> due time of batches still gathering notices."""
        query = (
            sa.select(
                notifications.c.channel,
                notifications.c.group_key,
                sa.type_coerce(sa.func.max(notifications.c.due_at), UTCDateTime()),
            )
            .where(
                notifications.c.status == PENDING,
                notifications.c.batch_id.is_(None),
                notifications.c.attempts == 0,
                notifications.c.due_at > now,
            )
            .group_by(notifications.c.channel, notifications.c.group_key)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {(c, g): due for c, g, due in rows}

    async def next_due(self) -> datetime | None:
        earliest = sa.type_coerce(sa.func.min(notifications.c.due_at), UTCDateTime())
        query = sa.select(earliest).where(notifications.c.status == PENDING)
        async with self._db.read() as conn:
            value: datetime | None = (await conn.execute(query)).scalar_one()
        return value

    async def list(
        self, *, status: NotificationStatus | None = None, limit: int = 100
    ) -> builtins.list[Notification]:
        """Newest first."""
        query = sa.select(notifications).order_by(notifications.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(notifications.c.status == status.value)
        async with self._db.read() as conn:
            return [notification_from_row(r) for r in (await conn.execute(query)).mappings()]

    async def retry(self, notification_id: int, now: datetime) -> bool:
        """Send a dead row again (after fixing the channel): pending, due now, in a batch
        of its own."""
        update = (
            sa.update(notifications)
            .where(
                notifications.c.id == notification_id,
                notifications.c.status == NotificationStatus.DEAD.value,
            )
            .values(status=PENDING, due_at=now, batch_id=None, claimed_until=None, attempts=0)
            .returning(notifications.c.id)
        )
        async with self._db.write() as conn:
            return (await conn.execute(update)).first() is not None


def _item(row: Any) -> NoticeItem:
    data = dict(row["data"] or {})
    return NoticeItem(
        event_id=row["id"],
        event=EventKind(row["kind"]),
        reason=row["reason"],
        message=row["message"],
        at=row["at"],
        actor=row["actor"],
        alert_id=row["alert_id"],
        dedup_key=row["dedup_key"],
        rule=row["rule"],
        kind=row["alert_kind"],
        severity=Severity(row["severity"]),
        state=AlertState(row["to_state"]),
        summary=row["summary"],
        workflow=row["workflow"],
        location=row["location"],
        note=row["note"],
        facts=data,
        url=data.get("url"),
    )
