"""The dashboard: `router(services)` serves the pages, their forms and static files.

| page | what |
|---|---|
| `/` | overview: system health, insights, workflows with sparklines, firing alerts, latest runs |
| `/workflows/{name}` | definition, schedule, uptime, prediction, anomalies, recent runs, run now |
| `/executions` | filterable table (query parameters), cursor pagination |
| `/executions/{id}` | step waterfall, failed assertions, response excerpts |
| `/alerts`, `/alerts/{id}` | firing / acknowledged / resolved, actions, history |
| `/performance` | percentiles and success rate per workflow and step, 1 h to 30 d |

Pages are rendered on the server (fast first paint, readable without JavaScript); small
ES modules then keep them live from `/api/v1/events` and the JSON routes. Every page
needs a login (`auth.viewer` sends people to `/login?next=...`); the Content-Security-
Policy (`api/security.py`) allows no inline script or style, so there is none.

The analytics' routes (anomalies, incidents, predictions) are another feature's router,
mounted or not by the API's composition: a page names each route it may read in a data-
attribute (empty when the app does not serve it), and the browser fetches them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import iter_route_contexts

from wfmon.api.auth.deps import manual_auth, public
from wfmon.api.services import ApiServices
from wfmon.api.workflow_views import execution_detail
from wfmon.web import actions, views
from wfmon.web.assets import STATIC_PREFIX, VENDOR_PREFIX, PlotlyBundle, StaticAssets
from wfmon.web.auth import Seen, Viewer
from wfmon.web.charts import PHASE_NAMES, PHASES, waterfall
from wfmon.web.filters import LIMITS, SINCE_CHOICES, STATUSES, parse_filters
from wfmon.web.performance import DEFAULT_WINDOW, WINDOWS, performance_page
from wfmon.web.render import Renderer

MAX_ID = 2**63 - 1
ANOMALIES = "/api/v1/anomalies"
INCIDENTS = "/api/v1/incidents"
PREDICTIONS = "/api/v1/predictions"


def has_route(request: Request, path: str) -> bool:
    """Whether the app serves `path` (included routers are walked: FastAPI nests them)."""
    return any(context.path == path for context in iter_route_contexts(request.app.routes))


@dataclass(frozen=True)
class AnalyticsRoutes:
    """The analytics' JSON routes the pages may read: each path, or "" when not served."""

    anomalies: str = ""
    incidents: str = ""
    predictions: str = ""

    @property
    def mounted(self) -> bool:
        return bool(self.anomalies or self.incidents or self.predictions)

    @classmethod
    def of(cls, request: Request) -> AnalyticsRoutes:
        paths = (ANOMALIES, INCIDENTS, PREDICTIONS)  # in the order of the fields
        return cls(*(path if has_route(request, path) else "" for path in paths))


def router(s: ApiServices) -> APIRouter:
    assets = StaticAssets()
    plotly = PlotlyBundle()
    render = Renderer(assets, plotly)
    # One flat router: the app includes it as is, and each level of nesting would cost
    # every request a walk (see create_api). Every page takes `who: Seen` (the login check).
    r = APIRouter(include_in_schema=False)

    def page(name: str, who: Viewer, active: str, status: int = 200, **values: Any) -> Response:
        return render.page(
            name,
            status,
            viewer=who,
            active=active,
            last_event_id=s.hub.last_id,  # the live feed resumes from what was rendered
            **values,
        )

    known: list[AnalyticsRoutes] = []  # the app's routes are known at its first request

    def analytics(request: Request) -> AnalyticsRoutes:
        if not known:
            known.append(AnalyticsRoutes.of(request))
        return known[0]

    def not_found(who: Viewer, title: str, message: str, back: str) -> Response:
        return page("error.html", who, "", 404, title=title, message=message, back=back)

    @r.get("/")
    @manual_auth
    async def overview(request: Request, who: Seen) -> Response:
        data = await views.overview_page(s)
        return page("overview.html", who, "overview", data=data, insights=analytics(request))

    @r.get("/executions")
    @manual_auth
    async def executions(
        request: Request, who: Seen, status: Annotated[list[str] | None, Query()] = None
    ) -> Response:
        filters = parse_filters(request.query_params, status or [], s.clock.now())
        data = await views.executions_page(s, filters)
        return page(
            "executions.html",
            who,
            "executions",
            data=data,
            filters=filters,
            statuses=STATUSES,
            since_choices=SINCE_CHOICES,
            limits=LIMITS,
        )

    @r.get("/executions/{execution_id}")
    @manual_auth
    async def execution(who: Seen, execution_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
        found = await s.executions.get(execution_id)
        if found is None:
            return not_found(
                who, "No such execution", f"There is no execution {execution_id}.", "/executions"
            )
        detail = execution_detail(found)
        return page(
            "execution.html",
            who,
            "executions",
            run=detail,
            chart=waterfall(detail),
            phases=PHASES,
            phase_names=PHASE_NAMES,
        )

    @r.get("/workflows/{name:path}")
    @manual_auth
    async def workflow(request: Request, who: Seen, name: str) -> Response:
        data = await views.workflow_page(s, name)
        if data is None:
            return not_found(who, "No such workflow", f"There is no workflow named “{name}”.", "/")
        return page(
            "workflow.html",
            who,
            "overview",
            data=data,
            wf=data.workflow,
            insights=analytics(request),
        )

    @r.get("/alerts")
    @manual_auth
    async def alerts(who: Seen) -> Response:
        return page("alerts.html", who, "alerts", data=await views.alerts_page(s))

    @r.get("/alerts/{alert_id}")
    @manual_auth
    async def alert(who: Seen, alert_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
        found = await views.alert_history(s, alert_id)
        if found is None:
            return not_found(who, "No such alert", f"There is no alert {alert_id}.", "/alerts")
        item, events = found
        return page("alert.html", who, "alerts", alert=item, events=events)

    @r.get("/performance")
    @manual_auth
    async def performance(
        request: Request,
        who: Seen,
        window: Annotated[str, Query(max_length=8)] = DEFAULT_WINDOW,
        workflow: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Response:
        chosen = WINDOWS.get(window, WINDOWS[DEFAULT_WINDOW])
        data = await performance_page(s, chosen, workflow)
        return page(
            "performance.html",
            who,
            "performance",
            data=data,
            windows=WINDOWS,
            anomalies=analytics(request).anomalies,
            charts=plotly.url is not None,
            plotly_style_ids=await plotly.style_ids(),
        )

    @r.get(STATIC_PREFIX + "/{build}/{path:path}")
    @public
    async def static(request: Request, build: str, path: str) -> Response:
        return assets.response(request, build, path)

    @r.get("/favicon.ico")
    @public
    async def favicon() -> Response:
        # Browsers ask for it on every page without an icon link (the login page).
        return RedirectResponse(assets.url("img/icon.svg"), status_code=301)

    @r.get(VENDOR_PREFIX + "/plotly-{version}.min.js")
    @public
    async def plotly_js(request: Request, version: str) -> Response:
        return await plotly.response(request, version)

    actions.add_routes(r, s, render)
    return r
