"""`GET /anomalies`, `GET /incidents` and `GET /predictions` as a FastAPI router (mounted
under /api/v1 by the API's composition)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from wfmon.analytics.predictions import predict, step_limits
from wfmon.clock import Clock
from wfmon.config.base import parse_duration
from wfmon.storage.analytics import AnalyticsRepository

# The history predictions are counted on: enough runs of an hourly journey to know how
# often a failure follows a failure, few enough to read on every request.
PREDICTION_HISTORY = "3d"
PREDICTION_RUNS = 50_000


def parse_since(value: str | None, now: datetime) -> datetime | None:
    """'7d', '24h', '90m' (ago) or an ISO 8601 time; None for no bound."""
    if value is None or not value.strip():
        return None
    try:
        return now - timedelta(seconds=parse_duration(value.strip()))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"since={value!r}: write a duration (7d, 24h) or an ISO time") from None
    if when.tzinfo is None:
        raise ValueError(f"since={value!r}: give a time zone (Z or +00:00)")
    return when


def analytics_router(
    repo: AnalyticsRepository | Callable[[], AnalyticsRepository], clock: Clock
) -> APIRouter:
    """The router; `repo` may be a factory, for an app whose database opens at startup."""
    router = APIRouter(tags=["analytics"])

    def _repo() -> AnalyticsRepository:
        return repo if isinstance(repo, AnalyticsRepository) else repo()

    def _since(value: str | None) -> datetime | None:
        try:
            return parse_since(value, clock.now())
        except ValueError as error:
            raise HTTPException(status_code=422, detail=str(error)) from error

    @router.get("/anomalies")
    async def anomalies(
        workflow: str | None = None,
        since: Annotated[str | None, Query(description="7d, 24h or an ISO time")] = "7d",
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Anomaly episodes, newest first (open ones always included)."""
        found = await _repo().anomalies(workflow=workflow, since=_since(since), limit=limit)
        return [a.to_json() for a in found]

    @router.get("/incidents")
    async def incidents(
        workflow: str | None = None,
        since: Annotated[str | None, Query(description="7d, 24h or an ISO time")] = "7d",
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Incidents (two or more failures with one probable cause), newest first."""
        found = await _repo().incidents(workflow=workflow, since=_since(since), limit=limit)
        return [i.to_json() for i in found]

    @router.get("/predictions")
    async def predictions(
        workflow: str | None = None,
        history: Annotated[
            str, Query(description="the recent history the rates are counted on (3d)")
        ] = PREDICTION_HISTORY,
    ) -> list[dict[str, Any]]:
        """Per workflow: the probability that one of its next 3 runs fails, whether the
        shipped rule calls it at risk, and why; most at risk first."""
        since = _since(history)
        repo = _repo()
        runs = await repo.runs(since=since, workflow=workflow, limit=PREDICTION_RUNS, newest=True)
        limits = step_limits(await repo.definitions())
        return [p.to_json() for p in predict(runs, limits)]

    return router
