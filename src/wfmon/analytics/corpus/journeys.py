"""The demo's six journeys as the corpus replays them: each step's route (its fault
endpoint and median latency, from the shop's own route table), expected status and
duration limit, read from the packaged `farmers-market.yaml`.

Reading the real config keeps the corpus honest: change a journey or a route's latency in
the demo and the corpus follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from wfmon.config.base import parse_duration
from wfmon.demo.faults import Endpoint
from wfmon.demo.shop import ROUTES
from wfmon.domain.workflow import Schedule

HOST = "127.0.0.1:8900"
_TEMPLATE = re.compile(r"\{\{[^}]*\}\}")


@dataclass(frozen=True)
class JourneyStep:
    name: str
    kind: str  # http | tcp
    method: str
    path: str  # as requested, e.g. /api/farms/1
    endpoint: Endpoint | None
    base_ms: float
    expect_status: int | None
    max_ms: float | None
    always_run: bool = False


@dataclass(frozen=True)
class Journey:
    name: str
    schedule: Schedule
    steps: tuple[JourneyStep, ...]
    retries: int = 0


def _route(method: str, path: str) -> tuple[Endpoint | None, float]:
    for route in ROUTES:
        pattern = "^" + re.sub(r"\{id:\\d\+\}", r"\\d+", route.path) + "$"
        if route.method == method and re.match(pattern, path):
            return route.endpoint, route.base_ms
    raise ValueError(f"no demo route for {method} {path}")


def _step(raw: dict[str, Any]) -> JourneyStep:
    expect = raw.get("expect") or {}
    limit = expect.get("max_duration")
    max_ms = parse_duration(limit) * 1000.0 if limit is not None else None
    if raw.get("type") == "tcp":
        return JourneyStep(raw["name"], "tcp", "CONNECT", "", None, 0.0, None, max_ms)
    method = str(raw.get("method", "GET")).upper()
    path = _TEMPLATE.sub("1", str(raw["url"])).removeprefix("1")
    endpoint, base_ms = _route(method, path)
    status = expect.get("status")
    return JourneyStep(
        name=raw["name"],
        kind="http",
        method=method,
        path=path,
        endpoint=endpoint,
        base_ms=base_ms,
        expect_status=int(status) if isinstance(status, int) else None,
        max_ms=max_ms,
        always_run=bool(raw.get("always_run", False)),
    )


@cache
def demo_journeys() -> tuple[Journey, ...]:
    text = resources.files("wfmon.demo").joinpath("farmers-market.yaml").read_text("utf-8")
    doc = yaml.safe_load(text)
    journeys = []
    for raw in doc["workflows"]:
        retries = (raw.get("retries") or {}).get("attempts", 0)
        journeys.append(
            Journey(
                name=raw["name"],
                schedule=Schedule(cron=raw["schedule"]),
                steps=tuple(_step(s) for s in raw["steps"]),
                retries=int(retries),
            )
        )
    return tuple(journeys)
