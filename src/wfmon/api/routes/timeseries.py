"""`GET /api/v1/metrics/timeseries`: served from rollups, cached for a moment."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from wfmon.api.params import NAME_PATTERN, TIME_HELP, invalid, parse_time
from wfmon.api.problems import PROBLEM_RESPONSES
from wfmon.api.schemas import TimeseriesOut
from wfmon.api.services import ApiServices
from wfmon.api.settings import ApiSettings
from wfmon.api.timeseries import RESOLUTIONS, BadRange, Metric, Plan, plan, timeseries

DEFAULT_SPAN = timedelta(hours=24)
MAX_STALE_S = 60.0


def freshness(chosen: Plan, settings: ApiSettings) -> float:
    """How long an answer is served before it is recomputed: a twelfth of its bucket
    width, between `timeseries_ttl_s` and a minute. Only the newest bucket of a chart can
    change, and a 1-hour point a minute late is still the right point; recomputing every
    series every 2 s is what the random mix of bench/api.py found too expensive."""
    return min(max(settings.timeseries_ttl_s, chosen.width_s / 12), MAX_STALE_S)


def router(s: ApiServices) -> APIRouter:
    r = APIRouter(prefix="/metrics", tags=["metrics"], responses=PROBLEM_RESPONSES)

    @r.get(
        "/timeseries",
        response_model=TimeseriesOut,
        dependencies=[Depends(s.auth.require("read"))],
        summary="A metric of a workflow or one of its steps over time (from rollups)",
        description=(
            "Durations are percentiles of a log-spaced histogram (within 19 %); "
            "`success_rate` is succeeded / runs (failed, error, timeout count against; "
            "missed and cancelled runs are not counted). Only buckets with runs are listed."
        ),
    )
    async def get_timeseries(
        workflow: Annotated[str, Query(pattern=NAME_PATTERN)],
        metric: Metric = "duration_p95",
        step: Annotated[
            str | None, Query(pattern=NAME_PATTERN, description="A step's name; none: the whole")
        ] = None,
        since: Annotated[
            str | None, Query(max_length=64, description=f"Default 24h. {TIME_HELP}")
        ] = None,
        until: Annotated[
            str | None, Query(max_length=64, description=f"Default now. {TIME_HELP}")
        ] = None,
        resolution: Annotated[
            str, Query(description=f"auto, or one of {', '.join(RESOLUTIONS)}", max_length=8)
        ] = "auto",
    ) -> Response:
        now = s.clock.now()
        end = parse_time(until, "query.until", now) or now
        start = parse_time(since, "query.since", now) or end - DEFAULT_SPAN
        try:
            chosen = plan(start, end, resolution)
        except BadRange as error:
            invalid(error.field, str(error))
        key = (workflow, step, metric, chosen)

        async def compute() -> bytes:
            return await timeseries(s.rollups, workflow, step, metric, chosen)

        body = await s.series_memo.get(key, compute, ttl_s=freshness(chosen, s.settings))
        return Response(body, media_type="application/json")

    return r
