"""`GET /api/v1/health-checks`: the bot's own checks, latest and recent."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from wfmon.api.overview import health_check_out
from wfmon.api.params import NAME_PATTERN, TIME_HELP, parse_time
from wfmon.api.problems import PROBLEM_RESPONSES
from wfmon.api.schemas import HealthChecksOut
from wfmon.api.services import ApiServices
from wfmon.health import checks
from wfmon.storage.lookups import latest_checks, recent_checks


def router(s: ApiServices) -> APIRouter:
    r = APIRouter(tags=["health"], responses=PROBLEM_RESPONSES)

    @r.get(
        "/health-checks",
        response_model=HealthChecksOut,
        dependencies=[Depends(s.auth.require("read"))],
        summary="The latest result of each self health check, and those since `since`",
    )
    async def health_checks(
        name: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
        since: Annotated[
            str | None, Query(max_length=64, description=f"Default 1h. {TIME_HELP}")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    ) -> HealthChecksOut:
        now = s.clock.now()
        start = parse_time(since, "query.since", now) or now - timedelta(hours=1)
        names = [name] if name is not None else list(checks.ALL_CHECKS)
        latest = await latest_checks(s.db, names)
        items = await recent_checks(s.db, start, name, limit)
        return HealthChecksOut(
            latest=[health_check_out(c) for c in latest],
            items=[health_check_out(c) for c in items],
        )

    return r
