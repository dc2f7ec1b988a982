"""Alerting's part of `wfmon status`: open alerts and the outbox's health, read-only.

`wfmon.status` shows it through its extension points (a `StatusFacts` field, a rule in
`assess.RULES`, a section in `render.SECTIONS`); this module only gathers the facts, and
never fails the whole status: a database without alerting's tables (migrated by an older
wfmon) gives `available=False` and the rest of the status as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from wfmon.domain.alert import Alert, AlertState, NotificationStatus
from wfmon.errors import StorageError
from wfmon.storage import AlertRepository, Database
from wfmon.storage.tables import UTCDateTime
from wfmon.storage.tables_alerts import notifications

OPEN = (AlertState.FIRING, AlertState.ACKNOWLEDGED)


@dataclass(frozen=True)
class AlertsStatus:
    available: bool = True  # False: the database has no alerting tables (an older wfmon)
    open: tuple[Alert, ...] = ()  # most severe first
    dead: int = 0  # notifications that gave up
    pending: int = 0
    oldest_due: datetime | None = None  # the longest-waiting pending notification

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(a for a in self.open if a.state is AlertState.FIRING)

    def to_json(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "open": [
                {
                    "id": a.id,
                    "state": a.state.value,
                    "severity": a.severity.value,
                    "workflow": a.workflow,
                    "location": a.location,
                    "rule": a.rule,
                    "summary": a.summary,
                    "opened_at": a.opened_at.isoformat(),
                    "acknowledged_by": a.acknowledged_by,
                }
                for a in self.open
            ],
            "notifications": {
                "dead": self.dead,
                "pending": self.pending,
                "oldest_due": self.oldest_due.isoformat() if self.oldest_due else None,
            },
        }


async def gather_alerts(db: Database) -> AlertsStatus:
    try:
        found = await AlertRepository(db).list(states=OPEN, limit=1000)
        oldest = sa.type_coerce(sa.func.min(notifications.c.due_at), UTCDateTime())
        pending = notifications.c.status == NotificationStatus.PENDING.value
        dead = notifications.c.status == NotificationStatus.DEAD.value
        query = sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((dead, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((pending, 1), else_=0)), 0),
            sa.select(oldest).where(pending).scalar_subquery(),
        )
        async with db.read() as conn:
            n_dead, n_pending, oldest_due = (await conn.execute(query)).one()
    except StorageError:
        return AlertsStatus(available=False)
    ordered = sorted(found, key=lambda a: (a.severity.rank, a.opened_at))
    return AlertsStatus(True, tuple(ordered), int(n_dead), int(n_pending), oldest_due)
