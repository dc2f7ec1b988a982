"""The Farmers Market demo shop: a small web app with switchable faults for wfmon to monitor.

async with running_shop(latency_scale=0) as shop:
    ...  # call shop.base_url; shop.set_faults({"down": ["login"]})
"""

from __future__ import annotations

from wfmon.demo.faults import ENDPOINTS, Decision, Endpoint, FaultPlan, decide, parse_plan
from wfmon.demo.server import ShopHandle, running_shop, serve
from wfmon.demo.shop import create_app

__all__ = [
    "ENDPOINTS",
    "Decision",
    "Endpoint",
    "FaultPlan",
    "ShopHandle",
    "create_app",
    "decide",
    "parse_plan",
    "running_shop",
    "serve",
]
