"""Alerts as the rest of the system sees them: states, severities, events, silences.

Frozen values with no I/O; `wfmon.storage.alerts` maps them to rows and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How urgent an alert is; channels route on it.

    `degraded` is its own level on purpose: a slow checkout is not a broken one, and
    whoever is paged for `critical` should not be woken for it.
    """

    CRITICAL = "critical"
    DEGRADED = "degraded"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the most urgent."""
        return list(Severity).index(self)


class AlertState(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def is_open(self) -> bool:
        return self is not AlertState.RESOLVED


class EventKind(StrEnum):
    """What an alert event records. The first four change the state."""

    FIRED = "fired"
    REOPENED = "reopened"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REMINDER = "reminder"  # still firing, nobody acknowledged it
    RELEASED = "released"  # a notice held by a silence or flapping, sent when it ended


class Verdict(StrEnum):
    """What a rule says about its subject right now."""

    FAILING = "failing"
    OK = "ok"
    UNKNOWN = "unknown"  # not enough evidence either way: the alert keeps its state


SYSTEM = "system"  # the actor of every change the daemon makes itself


@dataclass(frozen=True)
class Alert:
    """One episode of one problem. `dedup_key` names the problem (rule + workflow
    [+ location]); a problem that comes back after `reopen_within` is a new episode."""

    id: int
    dedup_key: str
    episode: int
    rule: str
    kind: str
    severity: Severity
    state: AlertState
    summary: str
    workflow: str | None
    location: str | None
    group_key: str
    tags: tuple[str, ...]
    opened_at: datetime
    changed_at: datetime
    acknowledged_by: str | None = None
    resolved_by: str | None = None
    notified_state: AlertState | None = None  # what receivers were last told: open or not
    notified_at: datetime | None = None  # the last notice of any kind (for reminders)
    muted_by: str | None = None  # why the last notice was held, if it was
    details: dict[str, Any] = field(default_factory=dict)  # the latest finding's facts
    version: int = 1

    @property
    def is_open(self) -> bool:
        return self.state.is_open


@dataclass(frozen=True)
class AlertEvent:
    """One row of the audit trail: who changed what, when, and why."""

    id: int
    alert_id: int
    at: datetime
    actor: str
    kind: EventKind
    from_state: AlertState | None
    to_state: AlertState
    reason: str  # a stable code, e.g. failed_in_a_row
    message: str
    execution_ids: tuple[int, ...] = ()
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # Filled when read together with the alert (history, exports).
    dedup_key: str = ""
    workflow: str | None = None


@dataclass(frozen=True)
class Silence:
    """A window that holds notifications (never recording, never alert states).

    One-off (`starts_at`..`ends_at`) or recurring (`cron` + `duration_s` in `timezone`).
    Matchers are lists; an empty list matches everything, a non-empty one any of its items
    (workflow names may be glob patterns such as `checkout-*`).
    """

    id: int
    name: str | None
    source: str  # config | cli | api
    author: str
    comment: str
    created_at: datetime
    workflows: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    cron: str | None = None
    duration_s: float | None = None
    timezone: str = "UTC"
    expired_at: datetime | None = None

    def describe(self) -> str:
        if self.cron is not None:
            return f"{self.name or self.id} (cron {self.cron} {self.timezone})"
        return f"{self.name or self.id}"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True)
class Notification:
    """One delivery of one alert event to one channel: an outbox row."""

    id: int
    event_id: int
    alert_id: int
    channel: str
    group_key: str
    status: NotificationStatus
    created_at: datetime
    due_at: datetime
    attempts: int = 0
    batch_id: int | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    last_code: int | None = None
    answer: str | None = None
