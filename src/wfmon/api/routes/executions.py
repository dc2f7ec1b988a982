"""Executions: a filtered list with cursor pagination, and one execution with its steps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from wfmon.api.params import NAME_PATTERN, TIME_HELP, decode_cursor, encode_cursor, parse_time
from wfmon.api.problems import PROBLEM_RESPONSES, ApiProblem
from wfmon.api.schemas import ExecutionDetailOut, ExecutionPageOut
from wfmon.api.services import ApiServices
from wfmon.api.workflow_views import execution_detail, execution_summary
from wfmon.domain.run import ExecutionStatus

MAX_ID = 2**63 - 1


def router(s: ApiServices) -> APIRouter:
    r = APIRouter(prefix="/executions", tags=["executions"], responses=PROBLEM_RESPONSES)
    read = [Depends(s.auth.require("read"))]

    @r.get(
        "",
        response_model=ExecutionPageOut,
        dependencies=read,
        summary="Executions, newest first, one page at a time",
    )
    async def list_executions(
        workflow: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
        status: Annotated[
            list[ExecutionStatus] | None, Query(description="Repeat for several")
        ] = None,
        location: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
        since: Annotated[
            str | None, Query(max_length=64, description=f"Started at or after. {TIME_HELP}")
        ] = None,
        until: Annotated[
            str | None, Query(max_length=64, description=f"Started before. {TIME_HELP}")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[
            str | None, Query(max_length=200, description="`next_cursor` of the previous page")
        ] = None,
    ) -> ExecutionPageOut:
        now = s.clock.now()
        start = parse_time(since, "query.since", now)
        end = parse_time(until, "query.until", now)
        before = decode_cursor(cursor)
        rows = await s.executions.list(
            workflow=workflow,
            status=status or None,
            location=location,
            since=start,
            until=end,
            limit=limit + 1,
            before_id=before,
        )
        page = rows[:limit]
        more = len(rows) > limit
        return ExecutionPageOut(
            items=[execution_summary(row) for row in page],
            next_cursor=encode_cursor(page[-1].id) if more and page else None,
        )

    @r.get(
        "/{execution_id}",
        response_model=ExecutionDetailOut,
        dependencies=read,
        summary="One execution: steps with timings, assertions, extracted values (masked)",
    )
    async def get_execution(
        execution_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    ) -> ExecutionDetailOut:
        found = await s.executions.get(execution_id)
        if found is None:
            raise ApiProblem(404, f"no execution {execution_id}", kind="not-found")
        return execution_detail(found)

    return r
