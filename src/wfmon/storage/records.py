"""How domain objects become rows, and rows become read models.

Writes take domain objects (`execution_row`, `step_rows`); reads return frozen read models
(`from_row`), which carry the database id and what the schema adds (removal time,
claimer) on top of the domain objects, and are what the API and dashboard render.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wfmon.domain.run import (
    AssertionResult,
    ExecutionResult,
    ExecutionStatus,
    StepResult,
    StepStatus,
    Timings,
)

Row = Mapping[Any, Any]  # a RowMapping, or a plain dict in tests


# -- writes: domain objects to rows ----------------------------------------------------


def clean_text(value: str | None) -> str | None:
    """Text that every engine can store.

    PostgreSQL text cannot hold NUL, and a response body can; one such excerpt must not
    fail the batch of results it is written with, so NUL becomes U+FFFD.
    """
    if value is None or "\x00" not in value:
        return value
    return value.replace("\x00", "\ufffd")


def execution_row(result: ExecutionResult) -> dict[str, Any]:
    """The `executions` row of a finished execution (none claimed it: `record_many`)."""
    if result.status is ExecutionStatus.RUNNING:
        raise ValueError(f"{result.workflow}: only finished executions can be recorded")
    return {
        "workflow": result.workflow,
        "location": result.location,
        "slot_at": result.slot_at,
        "trigger": result.trigger,
        "status": result.status.value,
        "attempts": result.attempts,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "duration_ms": result.duration_ms,
        "error": clean_text(result.reason),
        "workflow_version": result.workflow_version,
        "claimed_by": None,
    }


def step_rows(execution_id: int, steps: Sequence[StepResult]) -> list[dict[str, Any]]:
    """The `step_results` rows of one execution, numbered in the order the steps ran."""
    rows = []
    for position, step in enumerate(steps):
        timings = step.timings
        rows.append(
            {
                "execution_id": execution_id,
                "position": position,
                "name": step.name,
                "type": step.type,
                "status": step.status.value,
                "started_at": step.started_at,
                "dns_ms": timings.dns_ms,
                "connect_ms": timings.connect_ms,
                "tls_ms": timings.tls_ms,
                "ttfb_ms": timings.ttfb_ms,
                "total_ms": timings.total_ms,
                "response_status": step.response_status,
                "error": clean_text(step.error),
                "assertions": [assertion_to_json(a) for a in step.assertions],
                "extracted": step.extracted,
                "request": step.request,
                "response_headers": step.response_headers,
                "body_excerpt": clean_text(step.body_excerpt),
                "body_truncated": step.body_truncated,
                "redirects": step.redirects,
            }
        )
    return rows


def assertion_to_json(assertion: AssertionResult) -> dict[str, Any]:
    """An `expect:` outcome as stored in `step_results.assertions`."""
    return {
        "check": assertion.check,
        "operator": assertion.operator,
        "expected": assertion.expected,
        "actual": assertion.actual,
        "passed": assertion.passed,
        "message": assertion.message,
    }


# -- reads: rows to read models ----------------------------------------------------------


@dataclass(frozen=True)
class ExecutionSummary:
    """One execution without its steps: a line in a list."""

    id: int
    workflow: str
    location: str
    slot_at: datetime
    trigger: str
    status: ExecutionStatus
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    duration_ms: float | None
    error: str | None
    workflow_version: str | None
    claimed_by: str | None

    @classmethod
    def from_row(cls, row: Row) -> ExecutionSummary:
        return cls(**_execution_fields(row))


def assertion_from_json(data: Mapping[str, Any]) -> AssertionResult:
    return AssertionResult(
        check=data["check"],
        operator=data["operator"],
        expected=data.get("expected"),
        actual=data.get("actual"),
        passed=bool(data["passed"]),
        message=data.get("message") or "",
    )


@dataclass(frozen=True)
class StoredStep:
    """A step result as stored. JSON turns tuples into lists; they come back as tuples."""

    id: int
    execution_id: int
    position: int
    name: str
    type: str
    status: StepStatus
    started_at: datetime
    timings: Timings
    response_status: int | None
    error: str | None
    assertions: tuple[AssertionResult, ...]
    extracted: dict[str, Any]
    request: dict[str, Any]
    response_headers: dict[str, str]
    body_excerpt: str | None
    body_truncated: bool
    redirects: tuple[str, ...]

    @classmethod
    def from_row(cls, row: Row) -> StoredStep:
        return cls(
            id=row["id"],
            execution_id=row["execution_id"],
            position=row["position"],
            name=row["name"],
            type=row["type"],
            status=StepStatus(row["status"]),
            started_at=row["started_at"],
            timings=Timings(
                dns_ms=row["dns_ms"],
                connect_ms=row["connect_ms"],
                tls_ms=row["tls_ms"],
                ttfb_ms=row["ttfb_ms"],
                total_ms=row["total_ms"],
            ),
            response_status=row["response_status"],
            error=row["error"],
            assertions=tuple(assertion_from_json(a) for a in row["assertions"] or ()),
            extracted=dict(row["extracted"] or {}),
            request=dict(row["request"] or {}),
            response_headers=dict(row["response_headers"] or {}),
            body_excerpt=row["body_excerpt"],
            body_truncated=bool(row["body_truncated"]),
            redirects=tuple(row["redirects"] or ()),
        )

    def to_step_result(self) -> StepResult:
        """Back to the domain object, e.g. to reuse its `reason` and `failed_assertion`."""
        return StepResult(
            name=self.name,
            type=self.type,
            status=self.status,
            started_at=self.started_at,
            timings=self.timings,
            assertions=self.assertions,
            extracted=self.extracted,
            error=self.error,
            request=self.request,
            response_status=self.response_status,
            response_headers=self.response_headers,
            body_excerpt=self.body_excerpt,
            body_truncated=self.body_truncated,
            redirects=self.redirects,
        )


@dataclass(frozen=True)
class ExecutionDetail(ExecutionSummary):
    """One execution with its steps, in the order they ran."""

    steps: tuple[StoredStep, ...] = field(default=())

    @classmethod
    def from_rows(cls, row: Row, step_rows: Sequence[Row]) -> ExecutionDetail:
        steps = tuple(StoredStep.from_row(s) for s in step_rows)
        return cls(**_execution_fields(row), steps=steps)


@dataclass(frozen=True)
class WorkflowRecord:
    """A workflow as last synced from config; `removed_at` once it left the config."""

    id: int
    name: str
    version: str
    definition: dict[str, Any]
    schedule: str
    tags: tuple[str, ...]
    enabled: bool
    source: str
    created_at: datetime
    updated_at: datetime
    removed_at: datetime | None

    @property
    def removed(self) -> bool:
        return self.removed_at is not None

    @classmethod
    def from_row(cls, row: Row) -> WorkflowRecord:
        return cls(
            id=row["id"],
            name=row["name"],
            version=row["version"],
            definition=dict(row["definition"] or {}),
            schedule=row["schedule"],
            tags=tuple(row["tags"] or ()),
            enabled=bool(row["enabled"]),
            source=row["source"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            removed_at=row["removed_at"],
        )


@dataclass(frozen=True)
class HealthCheckRecord:
    """One self-check of the bot (database, scheduler lag, disk, ...)."""

    id: int
    checked_at: datetime
    name: str
    ok: bool
    latency_ms: float | None
    detail: str
    data: dict[str, Any]

    @classmethod
    def from_row(cls, row: Row) -> HealthCheckRecord:
        return cls(
            id=row["id"],
            checked_at=row["checked_at"],
            name=row["name"],
            ok=bool(row["ok"]),
            latency_ms=row["latency_ms"],
            detail=row["detail"],
            data=dict(row["data"] or {}),
        )


def _execution_fields(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "workflow": row["workflow"],
        "location": row["location"],
        "slot_at": row["slot_at"],
        "trigger": row["trigger"],
        "status": ExecutionStatus(row["status"]),
        "attempts": row["attempts"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "duration_ms": row["duration_ms"],
        "error": row["error"],
        "workflow_version": row["workflow_version"],
        "claimed_by": row["claimed_by"],
    }
