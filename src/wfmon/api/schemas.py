"""Response and request models: what the OpenAPI document promises, field by field."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Level = Literal["HEALTHY", "DEGRADED", "DOWN", "UNKNOWN"]
WorkflowState = Literal["passing", "failing", "degraded", "no_data", "disabled", "removed"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- health -------------------------------------------------------------------------------


class Liveness(Out):
    status: Literal["ok"] = "ok"


class Readiness(Out):
    status: Literal["ready"] = "ready"
    database: str
    latency_ms: float


class HealthCheckOut(Out):
    name: str
    ok: bool
    checked_at: datetime
    latency_ms: float | None = None
    detail: str
    data: dict[str, Any] = Field(default_factory=dict)


class HealthChecksOut(Out):
    latest: list[HealthCheckOut]
    items: list[HealthCheckOut] = Field(
        description="Every check since `since` (oldest first), at most `limit`"
    )


# -- overview -----------------------------------------------------------------------------


class ReasonOut(Out):
    code: str
    level: Level
    message: str
    subject: str | None = None


class DaemonOut(Out):
    alive: bool
    last_heartbeat: datetime
    instance: str | None = None
    pid: int | None = None
    version: str | None = None
    started_at: datetime | None = None
    uptime_s: float | None = None


class LagOut(Out):
    p50_s: float | None = None
    p99_s: float | None = None
    checked_at: datetime


class DatabaseOut(Out):
    dialect: str | None = None
    latency_ms: float | None = None
    revision: str | None = None


class SystemOut(Out):
    level: Level
    reasons: list[ReasonOut]
    recommendations: list[str]
    daemon: DaemonOut | None = None
    database: DatabaseOut
    scheduler_lag: LagOut | None = None
    health_checks: list[HealthCheckOut]


class CountsOut(Out):
    workflows: int
    executions_24h: int
    success_rate_24h: float | None = None
    firing_alerts: int | None = Field(None, description="None when alerting is not installed")


class WorkflowStatusOut(Out):
    name: str
    state: WorkflowState
    enabled: bool
    schedule: str
    next_run_at: datetime | None = None
    last_status: str | None = None
    last_run_at: datetime | None = None
    last_duration_ms: float | None = None
    last_error: str | None = None
    runs_24h: int = 0
    success_rate_24h: float | None = None
    p95_ms_24h: float | None = None


class OverviewOut(Out):
    generated_at: datetime
    system: SystemOut
    counts: CountsOut
    workflows: list[WorkflowStatusOut]


# -- workflows ----------------------------------------------------------------------------


class UptimeOut(Out):
    runs: int
    succeeded: int
    ratio: float | None = None


class UptimesOut(Out):
    h24: UptimeOut
    d7: UptimeOut
    d30: UptimeOut


class ScheduleOut(Out):
    words: str
    text: str = Field(description="As stored: `every 60s` or `cron */5 * * * * (UTC)`")
    cron: str | None = None
    every_s: float | None = None
    timezone: str | None = None


class WorkflowSummaryOut(Out):
    name: str
    description: str = ""
    tags: list[str]
    enabled: bool
    public: bool
    removed: bool
    schedule: ScheduleOut
    next_run_at: datetime | None = None
    last_status: str | None = None
    last_run_at: datetime | None = None


class WorkflowListOut(Out):
    items: list[WorkflowSummaryOut]


class ExecutionSummaryOut(Out):
    id: int
    workflow: str
    location: str
    slot_at: datetime
    trigger: str
    status: str
    attempts: int
    started_at: datetime
    finished_at: datetime | None = None
    duration_ms: float | None = None
    error: str | None = None
    workflow_version: str | None = None


class WorkflowDetailOut(WorkflowSummaryOut):
    version: str
    source: str
    locations: list[str]
    created_at: datetime
    updated_at: datetime
    removed_at: datetime | None = None
    definition: dict[str, Any] = Field(description="As written in the config, secrets masked")
    uptime: UptimesOut
    steps: list[str] = Field(description="Step names with metrics in the last 30 days")
    latest_executions: list[ExecutionSummaryOut]


class RunAcceptedOut(Out):
    execution_id: int
    workflow: str
    location: str
    status: Literal["running"] = "running"
    href: str


# -- executions ---------------------------------------------------------------------------


class ExecutionPageOut(Out):
    items: list[ExecutionSummaryOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page")


class AssertionOut(Out):
    check: str
    operator: str
    expected: Any = None
    actual: Any = None
    passed: bool
    message: str = ""


class TimingsOut(Out):
    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    total_ms: float


class StepOut(Out):
    position: int
    name: str
    type: str
    status: str
    started_at: datetime
    timings: TimingsOut
    response_status: int | None = None
    error: str | None = None
    assertions: list[AssertionOut]
    extracted: dict[str, Any]
    request: dict[str, Any]
    response_headers: dict[str, str]
    body_excerpt: str | None = None
    body_truncated: bool
    redirects: list[str]


class ExecutionDetailOut(ExecutionSummaryOut):
    claimed_by: str | None = None
    steps: list[StepOut]


# -- metrics ------------------------------------------------------------------------------


class PointOut(Out):
    t: datetime = Field(description="The start of the bucket")
    value: float | None = None
    count: int


class TimeseriesOut(Out):
    workflow: str
    step: str | None = None
    metric: str
    unit: Literal["ms", "ratio"]
    resolution: str
    since: datetime
    until: datetime
    points: list[PointOut]


# -- auth ---------------------------------------------------------------------------------


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class SessionOut(Out):
    username: str
    role: str | None = None
    scope: Literal["read", "write"]
    auth: Literal["session", "token"]
    csrf_token: str | None = Field(None, description="Send in X-CSRF-Token on unsafe requests")
    expires_at: datetime | None = None


# -- public status --------------------------------------------------------------------------


class PublicWorkflowOut(Out):
    name: str
    description: str = ""
    state: WorkflowState
    last_run_at: datetime | None = None
    uptime_24h: float | None = None
    uptime_30d: float | None = None


class PublicStatusOut(Out):
    generated_at: datetime
    workflows: list[PublicWorkflowOut]
