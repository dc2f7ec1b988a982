"""Workflows: list, detail (definition masked, schedule, next run, uptime), run now."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from wfmon.api.params import NAME_PATTERN
from wfmon.api.problems import PROBLEM_RESPONSES, ApiProblem
from wfmon.api.runs import RunRefused
from wfmon.api.schemas import (
    RunAcceptedOut,
    UptimeOut,
    UptimesOut,
    WorkflowDetailOut,
    WorkflowListOut,
)
from wfmon.api.services import ApiServices
from wfmon.api.workflow_views import (
    execution_summary,
    masked_definition,
    plan_of,
    workflow_summary,
)
from wfmon.storage.rollups import floor_to

Name = Annotated[str, Path(pattern=NAME_PATTERN, description="The workflow's name")]
LATEST = 10


def router(s: ApiServices) -> APIRouter:
    r = APIRouter(prefix="/workflows", tags=["workflows"], responses=PROBLEM_RESPONSES)
    read = [Depends(s.auth.require("read"))]
    write = [Depends(s.auth.require("write"))]

    @r.get("", response_model=WorkflowListOut, dependencies=read, summary="Every workflow")
    async def list_workflows(
        include_removed: Annotated[
            bool, Query(description="Also those removed from the config")
        ] = False,
        tag: Annotated[
            str | None, Query(pattern=NAME_PATTERN, description="Only with this tag")
        ] = None,
    ) -> WorkflowListOut:
        records = await s.workflows.list(include_removed=include_removed)
        if tag is not None:
            records = [r for r in records if tag in r.tags]
        latest = await s.executions.latest_per_workflow()
        now = s.clock.now()
        return WorkflowListOut(
            items=[workflow_summary(r, latest.get(r.name), now) for r in records]
        )

    @r.get(
        "/{name:path}",
        response_model=WorkflowDetailOut,
        dependencies=read,
        summary="One workflow: definition (secrets masked), schedule, uptime, latest runs",
    )
    async def get_workflow(name: Name) -> WorkflowDetailOut:
        record = await s.workflows.get(name)
        if record is None:
            raise ApiProblem(404, f"no workflow named {name!r}", kind="not-found")
        now = s.clock.now()
        hour = floor_to(now, "hour")
        spans = [hour - timedelta(hours=23), hour - timedelta(days=7), hour - timedelta(days=30)]
        uptime = [
            UptimeOut(runs=runs, succeeded=ok, ratio=ok / runs if runs else None)
            for runs, ok in await s.rollups.counts(name, spans)
        ]
        latest = await s.executions.list(workflow=name, limit=LATEST)
        summary = workflow_summary(record, latest[0] if latest else None, now)
        plan = plan_of(record)
        return WorkflowDetailOut(
            **summary.model_dump(),
            version=record.version,
            source=record.source,
            locations=list(plan.locations),
            created_at=record.created_at,
            updated_at=record.updated_at,
            removed_at=record.removed_at,
            definition=masked_definition(record),
            uptime=UptimesOut(h24=uptime[0], d7=uptime[1], d30=uptime[2]),
            steps=await s.rollups.steps(name, spans[2]),
            latest_executions=[execution_summary(e) for e in latest],
        )

    @r.post(
        "/{name:path}/run",
        status_code=202,
        response_model=RunAcceptedOut,
        dependencies=write,
        summary="Run the workflow now (trigger `manual`); 202 with the execution id",
    )
    async def run_workflow(
        name: Name,
        location: Annotated[
            str | None, Query(pattern=NAME_PATTERN, description="Default: its first location")
        ] = None,
    ) -> JSONResponse:
        try:
            started = await s.runs.start(name, location)
        except RunRefused as refused:
            if refused.status == 409 and await s.workflows.get(name) is None:
                raise ApiProblem(404, f"no workflow named {name!r}", kind="not-found") from None
            raise ApiProblem(refused.status, refused.detail, kind="run-refused") from None
        href = f"/api/v1/executions/{started.execution_id}"
        body = RunAcceptedOut(
            execution_id=started.execution_id,
            workflow=started.workflow,
            location=started.location,
            href=href,
        )
        return JSONResponse(body.model_dump(), status_code=202, headers={"Location": href})

    return r
