"""Models of the alerting routes (alerts, their audit trail, silences)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from wfmon.api.schemas import Out
from wfmon.domain.alert import Alert, AlertEvent, Silence

AlertStateName = Literal["firing", "acknowledged", "resolved"]


class AlertOut(Out):
    id: int
    dedup_key: str
    episode: int
    rule: str
    kind: str
    severity: str
    state: AlertStateName
    summary: str
    workflow: str | None = None
    location: str | None = None
    group_key: str
    tags: list[str]
    opened_at: datetime
    changed_at: datetime
    acknowledged_by: str | None = None
    resolved_by: str | None = None
    notified_state: str | None = None
    notified_at: datetime | None = None
    muted_by: str | None = None
    details: dict[str, Any]

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        return cls(
            id=alert.id,
            dedup_key=alert.dedup_key,
            episode=alert.episode,
            rule=alert.rule,
            kind=alert.kind,
            severity=alert.severity.value,
            state=alert.state.value,
            summary=alert.summary,
            workflow=alert.workflow,
            location=alert.location,
            group_key=alert.group_key,
            tags=list(alert.tags),
            opened_at=alert.opened_at,
            changed_at=alert.changed_at,
            acknowledged_by=alert.acknowledged_by,
            resolved_by=alert.resolved_by,
            notified_state=alert.notified_state.value if alert.notified_state else None,
            notified_at=alert.notified_at,
            muted_by=alert.muted_by,
            details=alert.details,
        )


class AlertListOut(Out):
    items: list[AlertOut]


class AlertEventOut(Out):
    id: int
    alert_id: int
    at: datetime
    actor: str
    kind: str
    from_state: str | None = None
    to_state: str
    reason: str
    message: str
    execution_ids: list[int]
    note: str | None = None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: AlertEvent) -> AlertEventOut:
        return cls(
            id=event.id,
            alert_id=event.alert_id,
            at=event.at,
            actor=event.actor,
            kind=event.kind.value,
            from_state=event.from_state.value if event.from_state else None,
            to_state=event.to_state.value,
            reason=event.reason,
            message=event.message,
            execution_ids=list(event.execution_ids),
            note=event.note,
            data=event.data,
        )


class AlertEventListOut(Out):
    items: list[AlertEventOut]


class AlertActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000)


class AlertActionOut(Out):
    alert: AlertOut
    changed: bool
    reason: str = Field(description="e.g. acknowledged, already_resolved")
    notifications: int = Field(description="Notifications queued by this change")


class SilenceOut(Out):
    id: int
    name: str | None = None
    source: str
    author: str
    comment: str
    created_at: datetime
    workflows: list[str]
    tags: list[str]
    locations: list[str]
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    cron: str | None = None
    duration_s: float | None = None
    timezone: str
    expired_at: datetime | None = None

    @classmethod
    def of(cls, silence: Silence) -> SilenceOut:
        return cls(
            id=silence.id,
            name=silence.name,
            source=silence.source,
            author=silence.author,
            comment=silence.comment,
            created_at=silence.created_at,
            workflows=list(silence.workflows),
            tags=list(silence.tags),
            locations=list(silence.locations),
            starts_at=silence.starts_at,
            ends_at=silence.ends_at,
            cron=silence.cron,
            duration_s=silence.duration_s,
            timezone=silence.timezone,
            expired_at=silence.expired_at,
        )


class SilenceListOut(Out):
    items: list[SilenceOut]


Matcher = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]{1,120}$")]


class SilenceIn(BaseModel):
    """A one-off window (`starts_at`, `ends_at`) or a recurring one (`cron`, `duration_s`,
    `timezone`). Empty matchers match everything; workflow names may be globs."""

    model_config = ConfigDict(extra="forbid")
    comment: str = Field(min_length=1, max_length=2000, description="Why: required")
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_.:-]{1,80}$")
    workflows: list[Matcher] = Field(default_factory=list, max_length=100)
    tags: list[Matcher] = Field(default_factory=list, max_length=100)
    locations: list[Matcher] = Field(default_factory=list, max_length=100)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    cron: str | None = Field(None, max_length=200)
    duration_s: float | None = Field(None, gt=0, le=366 * 86400)
    timezone: str = Field("UTC", max_length=64)
