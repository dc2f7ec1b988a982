"""`GET /api/v1/overview`."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from wfmon.api.problems import PROBLEM_RESPONSES
from wfmon.api.schemas import OverviewOut
from wfmon.api.services import ApiServices


def router(s: ApiServices) -> APIRouter:
    r = APIRouter(tags=["overview"], responses=PROBLEM_RESPONSES)

    @r.get(
        "/overview",
        response_model=OverviewOut,
        dependencies=[Depends(s.auth.require("read"))],
        summary="System health, counts and each workflow's state",
        description="Computed at most once a second (`overview_ttl_s`) whoever asks.",
    )
    async def overview() -> Response:
        _, body = await s.overview()
        return Response(body, media_type="application/json")

    return r
