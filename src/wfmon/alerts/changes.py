"""Write intents: what the planner decided, for storage to apply in one transaction.

A `Change` is one alert's new values (or a new episode), the event that records why, and
the outbox rows that will notify it; `wfmon.storage.alerts.AlertRepository.apply` writes a
list of them atomically, checking each alert's version so two writers cannot both act on
the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wfmon.domain.alert import AlertState, EventKind, Severity


@dataclass(frozen=True)
class NewAlert:
    dedup_key: str
    episode: int
    rule: str
    kind: str
    severity: Severity
    summary: str
    workflow: str | None
    location: str | None
    group_key: str
    tags: tuple[str, ...]
    details: Mapping[str, Any]
    opened_at: datetime


@dataclass(frozen=True)
class EventDraft:
    kind: EventKind
    actor: str
    from_state: AlertState | None
    to_state: AlertState
    reason: str
    message: str
    at: datetime
    execution_ids: tuple[int, ...] = ()
    note: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxDraft:
    channel: str
    group_key: str
    due_at: datetime


@dataclass(frozen=True)
class Change:
    """Exactly one of `alert_id` (update, if still at `version`) or `new` (insert)."""

    alert_id: int | None = None
    version: int | None = None
    new: NewAlert | None = None
    values: Mapping[str, Any] = field(default_factory=dict)  # alert columns to set
    event: EventDraft | None = None
    outbox: tuple[OutboxDraft, ...] = ()


class Conflict(Exception):
    """Another writer changed an alert since it was read: read again and re-plan."""
