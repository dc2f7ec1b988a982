"""The demo shop's fault decision: a pure function of the plan, the endpoint and `now`."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from wfmon.demo.faults import (
    ENDPOINTS,
    Decision,
    Endpoint,
    FaultPlan,
    FaultPlanError,
    decide,
    parse_fault_flags,
    parse_plan,
)
from wfmon.demo.shop import ROUTES

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def at(minutes: float) -> datetime:
    return NOW + minutes * MINUTE


CASES = [
    # The empty plan breaks nothing and says so.
    pytest.param(FaultPlan(), "login", NOW, Decision(0.0, None, "none"), id="no-faults"),
    # Global latency reaches every endpoint, health included.
    pytest.param(
        FaultPlan(latency_ms=300), "health", NOW, Decision(300.0, None, "latency"), id="latency"
    ),
    # Per-endpoint latency adds to the global one, only where it is aimed.
    pytest.param(
        FaultPlan(latency_ms=10, endpoint_latency_ms={"login": 500}),
        "login",
        NOW,
        Decision(510.0, None, "latency"),
        id="endpoint-latency-adds",
    ),
    pytest.param(
        FaultPlan(endpoint_latency_ms={"login": 500}),
        "products",
        NOW,
        Decision(0.0, None, "none"),
        id="endpoint-latency-elsewhere",
    ),
    # error_rate 0 never fails; 1 always fails, with a 500.
    pytest.param(FaultPlan(error_rate=0.0), "orders", NOW, Decision(), id="rate-0"),
    pytest.param(
        FaultPlan(error_rate=1.0), "orders", NOW, Decision(0.0, 500, "error_rate"), id="rate-1"
    ),
    # A down endpoint answers 503 at once, even with latency configured: nothing is there.
    pytest.param(
        FaultPlan(down=frozenset({"login"}), latency_ms=300),
        "login",
        NOW,
        Decision(0.0, 503, "down"),
        id="down",
    ),
    # Down is per endpoint: its neighbours only see the latency.
    pytest.param(
        FaultPlan(down=frozenset({"login"}), latency_ms=300),
        "me",
        NOW,
        Decision(300.0, None, "latency"),
        id="down-elsewhere",
    ),
    # Down beats a bad deploy and an error rate on the same endpoint.
    pytest.param(
        FaultPlan(down=frozenset({"orders"}), error_rate=1.0, bad_deploy_at=at(-5)),
        "orders",
        NOW,
        Decision(0.0, 503, "down"),
        id="down-wins",
    ),
    # Degradation: nothing at its start, then rate x minutes elapsed.
    pytest.param(
        FaultPlan(degrade_ms_per_min=20, degrade_since=NOW),
        "products",
        NOW,
        Decision(0.0, None, "none"),
        id="degrade-at-start",
    ),
    pytest.param(
        FaultPlan(degrade_ms_per_min=20, degrade_since=NOW),
        "products",
        at(30),
        Decision(600.0, None, "degradation"),
        id="degrade-after-30-min",
    ),
    # A degradation that starts in the future (or has no start yet) adds nothing.
    pytest.param(
        FaultPlan(degrade_ms_per_min=20, degrade_since=at(10)),
        "products",
        NOW,
        Decision(0.0, None, "none"),
        id="degrade-not-yet",
    ),
    pytest.param(
        FaultPlan(degrade_ms_per_min=20),
        "products",
        at(60),
        Decision(0.0, None, "none"),
        id="degrade-unarmed",
    ),
    # Before the bad deploy, the named endpoint is healthy.
    pytest.param(
        FaultPlan(bad_deploy_at=at(1)),
        "orders",
        NOW,
        Decision(0.0, None, "none"),
        id="bad-deploy-before",
    ),
    # From the deploy moment on (inclusive) it answers 500 and its latency doubles.
    pytest.param(
        FaultPlan(bad_deploy_at=NOW, latency_ms=100),
        "orders",
        NOW,
        Decision(100.0, 500, "bad_deploy", latency_factor=2.0),
        id="bad-deploy-at",
    ),
    # Other endpoints keep answering after the deploy, but twice as slowly.
    pytest.param(
        FaultPlan(bad_deploy_at=at(-1)),
        "products",
        NOW,
        Decision(0.0, None, "bad_deploy", latency_factor=2.0),
        id="bad-deploy-slows-the-rest",
    ),
    # The deploy can break several named endpoints.
    pytest.param(
        FaultPlan(bad_deploy_at=at(-1), bad_deploy_endpoints=frozenset({"cart", "orders"})),
        "cart",
        NOW,
        Decision(0.0, 500, "bad_deploy", latency_factor=2.0),
        id="bad-deploy-named-cart",
    ),
    # Causes combine in the reason, so a 200 that was slow says why.
    pytest.param(
        FaultPlan(latency_ms=50, degrade_ms_per_min=10, degrade_since=at(-3)),
        "farms",
        NOW,
        Decision(80.0, None, "latency+degradation"),
        id="reasons-combine",
    ),
]


@pytest.mark.parametrize(("plan", "endpoint", "now", "expected"), CASES)
def test_it_decides_the_fault_a_request_meets(
    plan: FaultPlan, endpoint: Endpoint, now: datetime, expected: Decision
) -> None:
    assert decide(plan, endpoint, now, random.Random(0)) == expected


def test_degradation_grows_linearly_with_time() -> None:
    plan = FaultPlan(degrade_ms_per_min=5).armed(NOW)
    extra = [decide(plan, "login", at(m), random.Random(0)).extra_latency_ms for m in (0, 1, 10)]
    assert extra == [0.0, 5.0, 50.0]


def test_an_error_rate_fails_about_that_fraction_of_requests() -> None:
    rng = random.Random(42)
    plan = FaultPlan(error_rate=0.25)
    failed = sum(decide(plan, "products", NOW, rng).status == 500 for _ in range(4000))
    assert 900 <= failed <= 1100


def test_a_plan_without_error_rate_leaves_the_generator_untouched() -> None:
    # Seeded latency jitter must not shift because a latency-only fault was switched on.
    rng = random.Random(7)
    decide(FaultPlan(latency_ms=300, bad_deploy_at=NOW), "orders", NOW, rng)
    assert rng.random() == random.Random(7).random()


def test_arming_starts_a_degradation_now_but_keeps_an_explicit_start() -> None:
    assert FaultPlan(degrade_ms_per_min=5).armed(NOW).degrade_since == NOW
    assert FaultPlan(degrade_ms_per_min=5, degrade_since=at(-9)).armed(NOW).degrade_since == at(-9)
    assert FaultPlan().armed(NOW).degrade_since is None


def test_a_plan_round_trips_through_json() -> None:
    plan = FaultPlan(
        latency_ms=12.5,
        endpoint_latency_ms={"login": 300},
        error_rate=0.1,
        down=frozenset({"cart", "login"}),
        degrade_ms_per_min=3,
        degrade_since=NOW,
        bad_deploy_at=at(5),
        bad_deploy_endpoints=frozenset({"orders", "cart"}),
    )
    doc = plan.to_json()
    assert doc["down"] == ["cart", "login"]
    assert doc["bad_deploy_at"] == "2026-03-01T12:05:00+00:00"
    assert parse_plan(doc) == plan


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"error_rate": 1.5}, "error_rate"),  # a rate is a fraction
        ({"down": ["logn"]}, "down"),  # a typo must not silently fault nothing
        ({"latency_ms": -1}, "latency_ms"),  # latency cannot be negative
        ({"bad_deploy_at": "2026-03-01T12:00:00"}, "bad_deploy_at"),  # naive time: which zone?
        ({"eror_rate": 0.5}, "eror_rate"),  # unknown keys are refused, not ignored
    ],
)
def test_an_invalid_plan_is_refused_naming_the_field(doc: dict[str, object], problem: str) -> None:
    with pytest.raises(FaultPlanError, match=problem):
        parse_plan(doc)


def test_fault_flags_build_a_plan() -> None:
    plan = parse_fault_flags(
        [
            "login=down",
            "down=cart,me",
            "error_rate=0.2",
            "latency_ms=300",
            "latency_ms.orders=50",
            "degrade_ms_per_min=20",
            "bad_deploy_at=+10m",
            "bad_deploy_endpoints=orders,cart",
        ],
        NOW,
    )
    assert plan == FaultPlan(
        latency_ms=300,
        endpoint_latency_ms={"orders": 50},
        error_rate=0.2,
        down=frozenset({"login", "cart", "me"}),
        degrade_ms_per_min=20,
        bad_deploy_at=at(10),
        bad_deploy_endpoints=frozenset({"orders", "cart"}),
    )


def test_bad_deploy_flag_takes_now_or_an_iso_time() -> None:
    assert parse_fault_flags(["bad_deploy_at=now"], NOW).bad_deploy_at == NOW
    iso = parse_fault_flags(["bad_deploy_at=2026-03-02T08:00:00+01:00"], NOW)
    assert iso.bad_deploy_at == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("flag", "problem"),
    [
        ("login", "key=value"),  # no value at all
        ("logn=down", "known: home"),  # a typo in an endpoint lists the real ones
        ("colour=red", "unknown fault 'colour'"),
        ("error_rate=lots", "error_rate"),
        ("bad_deploy_at=+tenm", "like \\+10m"),
    ],
)
def test_bad_fault_flags_are_refused(flag: str, problem: str) -> None:
    with pytest.raises(FaultPlanError, match=problem):
        parse_fault_flags([flag], NOW)


def test_every_fault_endpoint_names_at_least_one_route() -> None:
    # Otherwise `down: [x]` would be accepted and fault nothing.
    assert {r.endpoint for r in ROUTES if r.endpoint is not None} == set(ENDPOINTS)
