"""Fault plans for the demo shop, and the pure decision of what one request meets.

A `FaultPlan` is what an operator switched on, by `--fault` flags at start or by
`PUT /admin/faults` at run time. `decide` turns the plan into what happens to one request at
`now`: extra latency, perhaps an error status, and the reason, so a test can replay an hour
of slow degradation or a bad deploy with a fixed `now` and a seeded random generator.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, ValidationError, with_config

# The names faults are aimed at. Coarse on purpose: an operator thinks "login is down", not
# "POST /api/auth/login is down". The admin API has no name: it must stay reachable to undo
# a fault.
Endpoint = Literal[
    "home", "health", "login", "logout", "register", "me", "farms", "products", "cart", "orders"
]
ENDPOINTS: tuple[Endpoint, ...] = get_args(Endpoint)

NonNegative = Annotated[float, Field(ge=0)]


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True)
class FaultPlan:
    """What is broken. The empty plan (all defaults) breaks nothing.

    - `latency_ms`: added to every request; `endpoint_latency_ms` adds more to named endpoints.
    - `error_rate`: the fraction (0..1) of requests answered 500, at random.
    - `down`: endpoints answered 503 at once, like a load balancer with no healthy backend.
    - `degrade_ms_per_min`: latency that grows linearly from `degrade_since` (set to the
      moment the plan is applied when left empty): a slow leak, the hardest fault to alert on.
    - `bad_deploy_at`: from this moment `bad_deploy_endpoints` answer 500 and every endpoint's
      latency doubles, the signature of a release that broke one feature and slowed the rest.
    """

    latency_ms: NonNegative = 0.0
    endpoint_latency_ms: Mapping[Endpoint, NonNegative] = field(default_factory=dict)
    error_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    down: frozenset[Endpoint] = frozenset()
    degrade_ms_per_min: NonNegative = 0.0
    degrade_since: AwareDatetime | None = None
    bad_deploy_at: AwareDatetime | None = None
    bad_deploy_endpoints: frozenset[Endpoint] = frozenset({"orders"})

    def armed(self, now: datetime) -> FaultPlan:
        """The plan as applied at `now`: a degradation without a start starts now."""
        if self.degrade_ms_per_min > 0 and self.degrade_since is None:
            return replace(self, degrade_since=now)
        return self

    def to_json(self) -> dict[str, Any]:
        """A JSON document `parse_plan` reads back to an equal plan."""
        out = asdict(self)
        out["endpoint_latency_ms"] = dict(sorted(self.endpoint_latency_ms.items()))
        out["down"] = sorted(self.down)
        out["bad_deploy_endpoints"] = sorted(self.bad_deploy_endpoints)
        for key in ("degrade_since", "bad_deploy_at"):
            when = out[key]
            out[key] = when.isoformat() if when is not None else None
        return out


@dataclass(frozen=True)
class Decision:
    """What happens to one request: wait `(base + extra_latency_ms) * latency_factor`, then
    answer `status` (a fault) or let the handler answer (None). `reason` names the cause."""

    extra_latency_ms: float = 0.0
    status: int | None = None
    reason: str = "none"
    latency_factor: float = 1.0


NO_FAULT = Decision()


def decide(plan: FaultPlan, endpoint: Endpoint, now: datetime, rng: random.Random) -> Decision:
    """The fault `endpoint` meets at `now` under `plan`.

    Pure but for drawing from `rng`, which it does only when `error_rate` is strictly between
    0 and 1.
    """
    extra = plan.latency_ms + plan.endpoint_latency_ms.get(endpoint, 0.0)
    reasons = ["latency"] if extra > 0 else []
    if plan.degrade_ms_per_min > 0 and plan.degrade_since is not None:
        minutes = max(0.0, (now - plan.degrade_since).total_seconds() / 60.0)
        if minutes > 0:
            extra += plan.degrade_ms_per_min * minutes
            reasons.append("degradation")
    deployed = plan.bad_deploy_at is not None and now >= plan.bad_deploy_at
    factor = 2.0 if deployed else 1.0

    # Down wins and answers at once: nothing behind the balancer is there to be slow.
    if endpoint in plan.down:
        return Decision(0.0, 503, "down")
    if deployed and endpoint in plan.bad_deploy_endpoints:
        return Decision(extra, 500, "bad_deploy", factor)
    # Draw only when the rate can matter, so an error-free plan leaves the generator (and
    # with it the latency jitter of a seeded run) exactly as it was.
    if plan.error_rate >= 1 or (plan.error_rate > 0 and rng.random() < plan.error_rate):
        return Decision(extra, 500, "error_rate", factor)
    if deployed:
        reasons.append("bad_deploy")
    return Decision(extra, None, "+".join(reasons) or "none", factor)


class FaultPlanError(ValueError):
    """A plan that cannot be applied; the message names the field and the problem."""


_ADAPTER = TypeAdapter(FaultPlan)


def parse_plan(data: Any) -> FaultPlan:
    """Validate a JSON document (as from `PUT /admin/faults`) into a plan."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<plan>'}: {err['msg']}"
            for err in exc.errors()
        )
        raise FaultPlanError(problems) from None


def parse_fault_flags(flags: Iterable[str], now: datetime) -> FaultPlan:
    """Build a plan from `--fault` flags, each `key=value`:

    `login=down` (or `down=login,cart`), `error_rate=0.2`, `latency_ms=300`,
    `latency_ms.login=500`, `degrade_ms_per_min=20`, `bad_deploy_at=2026-01-01T12:00:00Z`
    (or relative to `now`: `bad_deploy_at=+10m`, `now`), `bad_deploy_endpoints=orders,cart`.
    """
    doc: dict[str, Any] = {}
    down: list[str] = []
    endpoint_latency: dict[str, str] = {}
    for flag in flags:
        key, sep, value = flag.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise FaultPlanError(f"--fault {flag!r}: write key=value, e.g. login=down")
        if value == "down" and key in ENDPOINTS:
            down.append(key)
        elif key == "down":
            down.extend(_names(value))
        elif key.startswith("latency_ms."):
            endpoint_latency[key.removeprefix("latency_ms.")] = value
        elif key == "bad_deploy_at":
            doc[key] = _when(value, now)
        elif key == "bad_deploy_endpoints":
            doc[key] = _names(value)
        elif key in _FLAG_NUMBERS:
            doc[key] = value
        elif value == "down":
            known = ", ".join(ENDPOINTS)
            raise FaultPlanError(f"--fault {flag!r}: no endpoint {key!r}; known: {known}")
        else:
            raise FaultPlanError(f"--fault {flag!r}: unknown fault {key!r}")
    if down:
        doc["down"] = down
    if endpoint_latency:
        doc["endpoint_latency_ms"] = endpoint_latency
    return parse_plan(doc)


_FLAG_NUMBERS = frozenset({"latency_ms", "error_rate", "degrade_ms_per_min"})
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


def _when(value: str, now: datetime) -> str:
    """An ISO time, `now`, or `+<n><s|m|h>` after `now`."""
    if value == "now":
        return now.isoformat()
    if value.startswith("+") and value[-1:] in _UNITS:
        try:
            amount = float(value[1:-1])
        except ValueError:
            raise FaultPlanError(f"bad_deploy_at: {value!r} is not like +10m") from None
        return (now + timedelta(seconds=amount * _UNITS[value[-1]])).isoformat()
    return value
