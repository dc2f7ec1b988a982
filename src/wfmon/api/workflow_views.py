"""Stored workflows and executions as API models (masking applied here)."""

from __future__ import annotations

from datetime import datetime

from wfmon.api import schemas
from wfmon.api.masking import mask_definition, mask_headers, mask_named, mask_query
from wfmon.status.plans import WorkflowPlan, plan_from_record
from wfmon.storage import ExecutionDetail, ExecutionSummary, WorkflowRecord


def plan_of(record: WorkflowRecord) -> WorkflowPlan:
    return plan_from_record(record)


def schedule_words(plan: WorkflowPlan | None) -> str:
    return plan.words if plan is not None else "not scheduled"


def schedule_out(record: WorkflowRecord, plan: WorkflowPlan) -> schemas.ScheduleOut:
    schedule = plan.schedule
    return schemas.ScheduleOut(
        words=plan.words,
        text=record.schedule,
        cron=schedule.cron if schedule is not None else None,
        every_s=schedule.every_s if schedule is not None else None,
        timezone=schedule.timezone if schedule is not None else None,
    )


def is_public(record: WorkflowRecord) -> bool:
    return record.definition.get("public") is True


def workflow_summary(
    record: WorkflowRecord, last: ExecutionSummary | None, now: datetime
) -> schemas.WorkflowSummaryOut:
    plan = plan_of(record)
    description = record.definition.get("description")
    return schemas.WorkflowSummaryOut(
        name=record.name,
        description=description if isinstance(description, str) else "",
        tags=list(record.tags),
        enabled=record.enabled,
        public=is_public(record),
        removed=record.removed,
        schedule=schedule_out(record, plan),
        next_run_at=None if record.removed else plan.next_run(now),
        last_status=last.status.value if last is not None else None,
        last_run_at=last.started_at if last is not None else None,
    )


def execution_summary(row: ExecutionSummary) -> schemas.ExecutionSummaryOut:
    return schemas.ExecutionSummaryOut(
        id=row.id,
        workflow=row.workflow,
        location=row.location,
        slot_at=row.slot_at,
        trigger=row.trigger,
        status=row.status.value,
        attempts=row.attempts,
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_ms=row.duration_ms,
        error=row.error,
        workflow_version=row.workflow_version,
    )


def execution_detail(row: ExecutionDetail) -> schemas.ExecutionDetailOut:
    summary = execution_summary(row).model_dump()
    return schemas.ExecutionDetailOut(
        **summary,
        claimed_by=row.claimed_by,
        steps=[
            schemas.StepOut(
                position=step.position,
                name=step.name,
                type=step.type,
                status=step.status.value,
                started_at=step.started_at,
                timings=schemas.TimingsOut(
                    dns_ms=step.timings.dns_ms,
                    connect_ms=step.timings.connect_ms,
                    tls_ms=step.timings.tls_ms,
                    ttfb_ms=step.timings.ttfb_ms,
                    total_ms=step.timings.total_ms,
                ),
                response_status=step.response_status,
                error=step.error,
                assertions=[
                    schemas.AssertionOut(
                        check=a.check,
                        operator=a.operator,
                        expected=a.expected,
                        actual=a.actual,
                        passed=a.passed,
                        message=a.message,
                    )
                    for a in step.assertions
                ],
                extracted=mask_named(step.extracted),
                request=mask_named(step.request),
                response_headers=mask_headers(step.response_headers),
                body_excerpt=step.body_excerpt,
                body_truncated=step.body_truncated,
                redirects=[mask_query(url) for url in step.redirects],
            )
            for step in row.steps
        ],
    )


def masked_definition(record: WorkflowRecord) -> dict[str, object]:
    masked = mask_definition(record.definition)
    assert isinstance(masked, dict)
    return masked
