"""`GET /metrics` for Prometheus: behind the read scope (a token in the scrape config's
`authorization`), or public with WFMON_METRICS_PUBLIC."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from wfmon.api.auth.deps import public
from wfmon.api.metrics import CONTENT_TYPE
from wfmon.api.problems import PROBLEM_RESPONSES
from wfmon.api.services import ApiServices


class PrometheusText(Response):
    media_type = CONTENT_TYPE


def router(s: ApiServices) -> APIRouter:
    r = APIRouter(tags=["metrics"], responses=PROBLEM_RESPONSES)

    async def scrape() -> Response:
        overview, _ = await s.overview()
        await s.metrics.refresh(overview, s.clock.now(), s.hub.clients)
        return PrometheusText(s.metrics.render())

    summary = "Prometheus metrics"
    if s.settings.metrics_public:
        r.get("/metrics", summary=summary, response_class=PrometheusText)(public(scrape))
    else:
        r.get(
            "/metrics",
            summary=summary,
            response_class=PrometheusText,
            dependencies=[Depends(s.auth.require("read"))],
        )(scrape)
    return r
