"""One running shop's mutable state: its data, its fault plan, and what it was started with."""

from __future__ import annotations

import random

from aiohttp import web

from wfmon import __version__
from wfmon.clock import Clock
from wfmon.demo.faults import FaultPlan
from wfmon.demo.store import DEFAULT_DEMO_PASSWORD, Store

# Guards a demo's fault switches, not data; override it with --admin-token when the shop is
# reachable by others.
DEFAULT_ADMIN_TOKEN = "demo-admin"  # noqa: S105


class ShopState:
    """Held by the aiohttp app under `SHOP`; handlers and middlewares read it from there."""

    def __init__(
        self,
        *,
        clock: Clock,
        rng: random.Random,
        latency_scale: float = 1.0,
        faults: FaultPlan | None = None,
        admin_token: str = DEFAULT_ADMIN_TOKEN,
        demo_password: str = DEFAULT_DEMO_PASSWORD,
    ) -> None:
        self.clock = clock
        self.rng = rng
        self.latency_scale = latency_scale
        self.admin_token = admin_token
        self.version = __version__
        self._demo_password = demo_password
        self._initial_faults = faults or FaultPlan()
        self._started = clock.monotonic()
        self.store = Store(clock, demo_password)
        self.faults = self._initial_faults.armed(clock.now())

    def set_faults(self, plan: FaultPlan) -> FaultPlan:
        """Replace the plan; a degradation without a start starts now."""
        self.faults = plan.armed(self.clock.now())
        return self.faults

    def clear_faults(self) -> None:
        self.faults = FaultPlan()

    def reset(self) -> None:
        """Back to how the shop started: fresh data, and the faults it was started with."""
        self.store = Store(self.clock, self._demo_password)
        self.faults = self._initial_faults.armed(self.clock.now())

    def uptime_s(self) -> float:
        return round(self.clock.monotonic() - self._started, 3)


SHOP = web.AppKey("shop", ShopState)
