"""The Farmers Market demo shop: the aiohttp app wfmon's examples and tests monitor.

`create_app` builds it; `wfmon.demo.server` runs it. Two middlewares give every route the same
behaviour: one stamps `X-Request-Id` and turns errors into problem JSON, the other applies the
route's normal latency and whatever the fault plan decides for it.
"""

from __future__ import annotations

import logging
import os
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from wfmon.clock import Clock, SystemClock
from wfmon.demo import admin, handlers
from wfmon.demo.faults import Endpoint, FaultPlan, decide
from wfmon.demo.latency import normal_latency_ms
from wfmon.demo.problems import ShopError, error_response, problem_response
from wfmon.demo.state import DEFAULT_ADMIN_TOKEN, SHOP, ShopState
from wfmon.demo.store import DEFAULT_DEMO_PASSWORD

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REQUEST_ID = "X-Request-Id"
FAULT_HEADER = "X-Fault"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """One route: `endpoint` is the name faults aim at; `base_ms` its median latency."""

    method: str
    path: str
    handler: Handler
    endpoint: Endpoint | None  # None: admin, never faulted
    base_ms: float = 0.0


# Base latencies are what a small app on a database would show: health does no I/O, login
# hashes a password, placing an order writes several rows.
ROUTES: tuple[Route, ...] = (
    Route("GET", "/", handlers.home, "home", 5),
    Route("GET", "/health", handlers.health, "health", 2),
    Route("POST", "/api/auth/login", handlers.login, "login", 40),
    Route("POST", "/api/auth/logout", handlers.logout, "logout", 8),
    Route("POST", "/api/auth/register", handlers.register, "register", 45),
    Route("GET", "/api/me", handlers.me, "me", 8),
    Route("DELETE", "/api/me", handlers.delete_me, "me", 20),
    Route("GET", "/api/farms", handlers.list_farms, "farms", 20),
    Route("POST", "/api/farms", handlers.create_farm, "farms", 35),
    Route("GET", r"/api/farms/{id:\d+}", handlers.get_farm, "farms", 12),
    Route("DELETE", r"/api/farms/{id:\d+}", handlers.delete_farm, "farms", 30),
    Route("GET", "/api/products", handlers.list_products, "products", 30),
    Route("GET", r"/api/products/{id:\d+}", handlers.get_product, "products", 15),
    Route("GET", "/api/cart", handlers.get_cart, "cart", 15),
    Route("POST", "/api/cart/items", handlers.add_cart_item, "cart", 25),
    Route("DELETE", "/api/cart", handlers.clear_cart, "cart", 15),
    Route("POST", "/api/orders", handlers.place_order, "orders", 60),
    Route("GET", "/api/orders", handlers.list_orders, "orders", 25),
    Route("GET", r"/api/orders/{id:\d+}", handlers.get_order, "orders", 20),
    Route("DELETE", r"/api/orders/{id:\d+}", handlers.cancel_order, "orders", 45),
    Route("GET", "/admin/faults", admin.get_faults, None),
    Route("PUT", "/admin/faults", admin.put_faults, None),
    Route("DELETE", "/admin/faults", admin.delete_faults, None),
    Route("POST", "/admin/reset", admin.reset, None),
)

_ROUTE_SPEC = web.AppKey("route_spec", dict[web.AbstractRoute, Route])


def _request_id(request: web.Request) -> str:
    # Keep a caller's id (wfmon sends one per step) so both sides log the same value; cap it
    # so a hostile header cannot flood the logs.
    given = request.headers.get(REQUEST_ID, "").strip()
    return given[:128] if given.isprintable() and given else uuid.uuid4().hex


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: every response gets a request id, every error the problem JSON shape."""
    request_id = _request_id(request)
    response: web.StreamResponse
    try:
        response = await handler(request)
    except ShopError as error:
        response = error_response(error, instance=request.path)
    except web.HTTPException as exc:
        # The router's own 404 and 405; keep headers such as Allow.
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        response = problem_response(
            exc.status,
            exc.reason,
            f"{request.method} {request.path}: {exc.reason.lower()}",
            slug=exc.reason.lower().replace(" ", "-"),
            instance=request.path,
            headers=headers,
        )
    except Exception:
        _log.exception("demo shop handler failed", extra={"event": "demo.handler_failed"})
        response = problem_response(
            500, "Internal Server Error", "the shop failed unexpectedly", slug="internal-error"
        )
    response.headers[REQUEST_ID] = request_id
    return response


@web.middleware
async def faults_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Wait the route's latency plus the plan's, then answer the fault or run the handler."""
    route = request.app[_ROUTE_SPEC].get(request.match_info.route)
    if route is None or route.endpoint is None:
        return await handler(request)
    shop = request.app[SHOP]
    decision = decide(shop.faults, route.endpoint, shop.clock.now(), shop.rng)
    # Fault latency is not scaled: `latency_ms=300` means 300 ms even when the normal
    # latency is switched off, so a max_duration assertion trips on cue.
    normal = normal_latency_ms(route.base_ms, shop.rng, shop.latency_scale)
    delay_ms = (normal + decision.extra_latency_ms) * decision.latency_factor
    if delay_ms > 0:
        await shop.clock.sleep(delay_ms / 1000.0)
    if decision.status is None:
        response = await handler(request)
    elif route.endpoint == "health":
        response = web.json_response(
            {"status": "down", "version": shop.version, "reason": decision.reason},
            status=decision.status,
        )
    else:
        response = problem_response(
            decision.status,
            "Service Unavailable" if decision.status == 503 else "Internal Server Error",
            f"injected fault: {decision.reason}",
            slug="injected-fault",
            instance=request.path,
        )
    if decision.reason != "none":
        response.headers[FAULT_HEADER] = decision.reason
    return response


def create_app(
    *,
    latency_scale: float = 1.0,
    faults: FaultPlan | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    admin_token: str = DEFAULT_ADMIN_TOKEN,
    demo_password: str | None = None,
) -> web.Application:
    """Build the shop. `demo_password` defaults to $DEMO_PASSWORD, then 'farmers-market',
    the same rule the example workflows use, so they log in against any shop built here."""
    if demo_password is None:
        demo_password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    app = web.Application(middlewares=[errors_middleware, faults_middleware])
    app[SHOP] = ShopState(
        clock=clock or SystemClock(),
        # Not security-sensitive: it only jitters latency and picks which requests fail.
        rng=rng or random.Random(),  # noqa: S311
        latency_scale=latency_scale,
        faults=faults,
        admin_token=admin_token,
        demo_password=demo_password,
    )
    specs: dict[web.AbstractRoute, Route] = {}
    for route in ROUTES:
        specs[app.router.add_route(route.method, route.path, route.handler)] = route
    app[_ROUTE_SPEC] = specs
    return app
