"""The faults a corpus injects: when, where, and the demo `FaultPlan` they add up to.

Transient faults never overlap (each is at least `GAP` from the next) so every labelled
window has one cause; level shifts are permanent, like a release nobody rolls back, and
are labelled only for their first `adapt_minutes` (after that the shifted level is the new
normal, and an alarm about it is a false one).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from wfmon.analytics.corpus.settings import CorpusSettings
from wfmon.demo.faults import ENDPOINTS, Endpoint, FaultPlan
from wfmon.demo.shop import ROUTES

GAP = timedelta(hours=3)
ALL: frozenset[Endpoint] = frozenset(ENDPOINTS)


@dataclass(frozen=True)
class InjectedFault:
    id: str  # "outage-2"
    kind: str  # outage | bad_deploy | level_shift | degradation | flaky | nightly
    start: datetime
    end: datetime  # when it was removed
    label_end: datetime  # the end of its labelled window
    endpoints: frozenset[Endpoint]  # the endpoints whose behaviour it changes
    target: Endpoint | None = None  # the one it breaks outright (down, 500, slower)
    extra_ms: float = 0.0
    degrade_ms_per_min: float = 0.0
    error_rate: float = 0.0

    def active(self, now: datetime) -> bool:
        return self.start <= now < self.end

    def describe(self) -> str:
        where = self.target or "every endpoint"
        return f"{self.kind} on {where} {self.start:%a %H:%M}-{self.label_end:%H:%M}"


def _base_ms(endpoint: Endpoint) -> float:
    bases = [r.base_ms for r in ROUTES if r.endpoint == endpoint]
    return sum(bases) / len(bases)


def _minutes(spec: Mapping[str, Any], rng: random.Random, key: str = "minutes") -> float:
    low, high = spec[key]
    return rng.uniform(float(low), float(high))


def schedule_faults(settings: CorpusSettings, rng: random.Random) -> tuple[InjectedFault, ...]:
    """Place every fault of the settings at random after the warm-up."""
    taken: list[tuple[datetime, datetime]] = []
    faults: list[InjectedFault] = []
    lo, hi = settings.scored_from, settings.end - timedelta(hours=8)

    def place(length: timedelta) -> datetime:
        for _ in range(1000):
            span = (hi - lo).total_seconds() - length.total_seconds()
            start = lo + timedelta(seconds=rng.uniform(0, max(span, 0.0)))
            start = start.replace(second=0, microsecond=0)
            if all(start + length + GAP <= a or start >= b + GAP for a, b in taken):
                taken.append((start, start + length))
                return start
        raise ValueError("the corpus is too short for its faults; lower the counts")

    specs = settings.faults
    nightly = specs.get("nightly")
    if nightly:
        for n in range(int(nightly["count"])):
            nights = int(nightly["nights"])
            length = timedelta(minutes=float(nightly["minutes"]))
            day = settings.scored_from.replace(hour=0, minute=0) + timedelta(days=1 + 7 * n)
            for night in range(nights):
                start = day + timedelta(days=night, hours=float(nightly["hour_utc"]))
                taken.append((start, start + length))
                fid = f"nightly-{n + 1}.{night + 1}"
                faults.append(
                    InjectedFault(fid, "nightly", start, start + length, start + length, ALL)
                )
    for kind in ("outage", "bad_deploy", "level_shift", "degradation", "flaky"):
        spec = specs.get(kind)
        if not spec:
            continue
        for n in range(int(spec["count"])):
            fid = f"{kind}-{n + 1}"
            choices = cast(Sequence[Endpoint], spec.get("endpoints") or ENDPOINTS)
            target = rng.choice(list(choices))
            if kind == "level_shift":
                adapt = timedelta(minutes=float(spec["adapt_minutes"]))
                start = place(adapt)
                low, high = spec["factor"]
                extra = (rng.uniform(float(low), float(high)) - 1.0) * _base_ms(target)
                faults.append(
                    InjectedFault(
                        fid,
                        kind,
                        start,
                        settings.end,
                        start + adapt,
                        frozenset({target}),
                        target,
                        extra_ms=extra,
                    )
                )
                continue
            length = timedelta(minutes=_minutes(spec, rng))
            start = place(length)
            end = start + length
            if kind == "outage":
                fault = InjectedFault(fid, kind, start, end, end, frozenset({target}), target)
            elif kind == "bad_deploy":
                fault = InjectedFault(fid, kind, start, end, end, ALL, target)
            elif kind == "degradation":
                rate = _minutes(spec, rng, "ms_per_min")
                fault = InjectedFault(fid, kind, start, end, end, ALL, degrade_ms_per_min=rate)
            else:
                rate = _minutes(spec, rng, "error_rate")
                fault = InjectedFault(fid, kind, start, end, end, ALL, error_rate=rate)
            faults.append(fault)
    return tuple(sorted(faults, key=lambda f: f.start))


def plan_at(
    faults: Iterable[InjectedFault], now: datetime
) -> tuple[FaultPlan, tuple[InjectedFault, ...]]:
    """The demo fault plan in force at `now`, and the faults active then."""
    active = tuple(f for f in faults if f.active(now))
    if not active:
        return _EMPTY, active
    down: set[Endpoint] = set()
    latency: dict[Endpoint, float] = {}
    error_rate = 0.0
    degrade = 0.0
    degrade_since: datetime | None = None
    deploy_at: datetime | None = None
    deploy_endpoints: frozenset[Endpoint] = frozenset()
    for fault in active:
        if fault.kind in ("outage",) and fault.target is not None:
            down.add(fault.target)
        elif fault.kind == "nightly":
            down.update(ENDPOINTS)
        elif fault.kind == "level_shift" and fault.target is not None:
            latency[fault.target] = latency.get(fault.target, 0.0) + fault.extra_ms
        elif fault.kind == "flaky":
            error_rate = max(error_rate, fault.error_rate)
        elif fault.kind == "degradation":
            degrade, degrade_since = fault.degrade_ms_per_min, fault.start
        elif fault.kind == "bad_deploy" and fault.target is not None:
            deploy_at, deploy_endpoints = fault.start, frozenset({fault.target})
    plan = FaultPlan(
        endpoint_latency_ms=latency,
        error_rate=error_rate,
        down=frozenset(down),
        degrade_ms_per_min=degrade,
        degrade_since=degrade_since,
        bad_deploy_at=deploy_at,
        bad_deploy_endpoints=deploy_endpoints or frozenset({"orders"}),
    )
    return plan, active


_EMPTY = FaultPlan()
