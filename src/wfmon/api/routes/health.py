"""Liveness and readiness probes: public, cheap, no database for liveness."""

from __future__ import annotations

from fastapi import APIRouter

from wfmon.api.auth.deps import public
from wfmon.api.problems import PROBLEM_RESPONSES, ApiProblem
from wfmon.api.schemas import Liveness, Readiness
from wfmon.api.services import ApiServices
from wfmon.errors import StorageError

READY_TIMEOUT_S = 2.0


def router(s: ApiServices) -> APIRouter:
    r = APIRouter(tags=["health"], responses=PROBLEM_RESPONSES)

    @r.get("/healthz", response_model=Liveness, summary="Liveness: the process answers")
    @public
    async def healthz() -> Liveness:
        return Liveness()

    @r.get(
        "/readyz",
        response_model=Readiness,
        summary="Readiness: the database answers",
        responses={503: PROBLEM_RESPONSES[500] | {"description": "The database is unreachable"}},
    )
    @public
    async def readyz() -> Readiness:
        try:
            latency = await s.db.ping(READY_TIMEOUT_S)
        except StorageError as error:
            raise ApiProblem(503, "the database is unreachable", kind="not-ready") from error
        return Readiness(database=s.db.dialect, latency_ms=round(latency, 2))

    return r
