"""Running the shop on a socket: `running_shop` for tests and embedding, `serve` for the CLI.

Port 0 asks the OS for a free port; the handle reports the one it got, so parallel tests never
fight over 8900.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.log import access_logger

from wfmon.clock import Clock
from wfmon.demo.faults import FaultPlan, parse_plan
from wfmon.demo.shop import create_app
from wfmon.demo.state import DEFAULT_ADMIN_TOKEN, SHOP, ShopState


@dataclass(frozen=True)
class ShopHandle:
    """A shop listening on `host:port`. Changes made through it take effect at once."""

    app: web.Application
    host: str
    port: int

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def state(self) -> ShopState:
        return self.app[SHOP]

    def set_faults(self, plan: FaultPlan | Mapping[str, Any]) -> FaultPlan:
        """Apply a plan (or its JSON form, as `PUT /admin/faults` takes) without HTTP."""
        return self.state.set_faults(plan if isinstance(plan, FaultPlan) else parse_plan(plan))

    def clear_faults(self) -> None:
        self.state.clear_faults()

    def reset(self) -> None:
        self.state.reset()


@asynccontextmanager
async def running_shop(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    latency_scale: float = 1.0,
    faults: FaultPlan | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    admin_token: str = DEFAULT_ADMIN_TOKEN,
    demo_password: str | None = None,
    access_log: bool = False,
) -> AsyncIterator[ShopHandle]:
    """Start the shop, yield its handle, and stop it (closing connections) on exit."""
    app = create_app(
        latency_scale=latency_scale,
        faults=faults,
        clock=clock,
        rng=rng,
        admin_token=admin_token,
        demo_password=demo_password,
    )
    # access_log=None switches aiohttp's per-request log off: tests make thousands of calls.
    # A short shutdown: a request stuck in an injected 10-minute delay must not hold Ctrl-C.
    runner = web.AppRunner(
        app, access_log=access_logger if access_log else None, shutdown_timeout=2.0
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        yield ShopHandle(app=app, host=str(bound_host), port=int(bound_port))
    finally:
        await runner.cleanup()


async def serve(
    host: str = "127.0.0.1",
    port: int = 8900,
    *,
    latency_scale: float = 1.0,
    faults: FaultPlan | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    admin_token: str = DEFAULT_ADMIN_TOKEN,
    demo_password: str | None = None,
    on_ready: Callable[[ShopHandle], None] | None = None,
) -> None:
    """Run the shop until cancelled (Ctrl-C under `asyncio.run`). `on_ready` gets the handle
    once the socket listens, e.g. to print the URL."""
    async with running_shop(
        host,
        port,
        latency_scale=latency_scale,
        faults=faults,
        clock=clock,
        rng=rng,
        admin_token=admin_token,
        demo_password=demo_password,
        access_log=True,
    ) as shop:
        if on_ready is not None:
            on_ready(shop)
        await asyncio.Event().wait()
