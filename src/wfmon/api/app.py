"""`create_api(ctx)`: the FastAPI app, built from an ApiContext; no module-level state.

Routes live under /api/v1 (OpenAPI at /api/openapi.json, docs at /api/docs, both behind
login); /healthz, /readyz, /login, /static and the optional /status page are public;
/metrics serves Prometheus. Every route is checked when the app is built: one that is
neither behind `require(scope)` nor marked `@public` stops the build (`check_routes`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount

from wfmon import __version__
from wfmon.api import problems
from wfmon.api.auth.deps import is_guard, is_manual, is_public
from wfmon.api.context import ApiContext
from wfmon.api.routes import (
    alerts,
    auth,
    events,
    executions,
    health,
    health_checks,
    overview,
    pages,
    prometheus,
    timeseries,
    workflows,
)
from wfmon.api.security import SecurityHeaders
from wfmon.api.services import ApiServices, build_services
from wfmon.web import pages as dashboard

PREFIX = "/api/v1"
OPENAPI_URL = "/api/openapi.json"
PUBLIC_MOUNTS = frozenset({"/static"})

DESCRIPTION = """\
The wfmon REST API: workflows, executions, metrics from rollups, health, live events.

Authenticate with a session (`POST /api/v1/auth/login`, then send the CSRF token in
`X-CSRF-Token` on unsafe requests) or an API token (`Authorization: Bearer wfm_...`,
made with `wfmon token create --scope read|write`). Errors are RFC 7807 problem JSON.
"""


def create_api(ctx: ApiContext) -> FastAPI:
    services = build_services(ctx)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await services.hub.start()
        await services.runs.recover()
        try:
            yield
        finally:
            await services.hub.close()
            await services.runs.close()

    api = FastAPI(
        title="wfmon",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=None,  # served below, behind login
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    api.state.services = services
    api.state.authenticator = services.auth
    problems.install(api)
    api.add_middleware(SecurityHeaders)

    read = Depends(services.auth.require("read"))
    # Included one level deep: every level of nesting costs each request a walk.
    api.include_router(health.router(services))
    routes = (auth, overview, workflows, executions, timeseries, health_checks, alerts, events)
    for module in routes:
        api.include_router(module.router(services), prefix=PREFIX)
    for extra in ctx.routers:
        api.include_router(
            extra, prefix=PREFIX, dependencies=[read], responses=problems.PROBLEM_RESPONSES
        )
    api.include_router(prometheus.router(services))
    api.include_router(dashboard.router(services))  # before pages: "/" is the overview
    api.include_router(pages.router(services))
    api.mount("/static", StaticFiles(directory=str(files("wfmon.api") / "static")), name="static")

    @api.get(OPENAPI_URL, include_in_schema=False, dependencies=[read])
    async def openapi() -> JSONResponse:
        return JSONResponse(api.openapi())

    check_routes(api)
    return api


def services_of(api: FastAPI) -> ApiServices:
    found: Any = api.state.services
    assert isinstance(found, ApiServices)
    return found


class UnguardedRoute(RuntimeError):
    pass


def check_routes(api: FastAPI) -> None:
    """Refuse an app with a route that is neither authenticated nor declared public."""
    for context in iter_route_contexts(api.routes):
        route = context.original_route
        if isinstance(route, APIRoute | APIWebSocketRoute):
            endpoint = context.endpoint
            dependant = getattr(context, "dependant", None)
            calls = [d.dependency for d in getattr(context, "dependencies", None) or ()]
            calls += [d.call for d in _all_dependencies(dependant)] if dependant else []
            guarded = any(is_guard(call) for call in calls)
            if not (guarded or is_public(endpoint) or is_manual(endpoint)):
                raise UnguardedRoute(
                    f"{context.path} has no require(scope) dependency and is not marked @public"
                )
        elif isinstance(route, Mount):
            if route.path not in PUBLIC_MOUNTS:
                raise UnguardedRoute(f"mount {route.path} is not a declared public mount")
        else:
            raise UnguardedRoute(f"{route!r}: a kind of route the check does not know")


def _all_dependencies(dependant: Any) -> list[Any]:
    found = []
    for dependency in dependant.dependencies:
        found.append(dependency)
        found.extend(_all_dependencies(dependency))
    return found
