"""Signatures, incidents, patterns and trends on tables of known cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from wfmon.analytics.incidents import group
from wfmon.analytics.patterns import find_patterns
from wfmon.analytics.signatures import Failure, endpoint, signature
from wfmon.analytics.trends import trend

T0 = datetime(2026, 1, 5, 5, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("order 4711 not found", "order <n> not found"),  # numbers
        ("user 1b4e28ba-2fa1-41d2-883f-0016d3bcc201 locked", "user <id> locked"),  # UUIDs
        ("at 2026-01-05T05:02:11Z: timeout", "at <time>: timeout"),  # timestamps
        ("token deadbeef1234 expired", "token <id> expired"),  # hex ids
        ("status: expected == 200, got 503", "status: expected == <n>, got <n>"),
        (None, "(no error text)"),
    ],
)
def test_signatures_strip_ids_numbers_and_times(text: str | None, expected: str) -> None:
    assert signature(text) == expected


@pytest.mark.parametrize(
    ("method", "url", "expected"),
    [
        ("POST", "http://shop:8900/api/auth/login", ("shop:8900", "POST /api/auth/login")),
        ("GET", "http://shop/api/farms/123", ("shop", "GET /api/farms/{id}")),  # id segment
        (None, "https://h/x?q=1", ("h", "GET /x")),  # default method, query dropped
        ("CONNECT", "tcp://127.0.0.1:8900", ("127.0.0.1:8900", "CONNECT")),
        (None, None, ("", "")),
    ],
)
def test_endpoints_are_host_and_method_path_without_ids(
    method: str | None, url: str | None, expected: tuple[str, str]
) -> None:
    assert endpoint(method, url) == expected


def _failure(
    workflow: str,
    minutes: float,
    status: int | None = 503,
    where: str = "POST /api/auth/login",
    sig: str = "x",
) -> Failure:
    return Failure(
        workflow, "login", T0 + timedelta(minutes=minutes), sig, "shop:8900", where, status, "e"
    )


def test_failures_across_workflows_with_one_cause_are_one_incident() -> None:
    failures = [
        _failure("user-login", 0),
        _failure("registration", 10),
        _failure("order-placement", 25),
        _failure("user-login", 15, status=None, sig="connection reset"),  # another cause
        _failure("user-login", 400),  # long after: a new incident
    ]
    incidents = group(sorted(failures, key=lambda f: f.at))
    first = incidents[0]
    assert first.failures == 3
    assert first.workflows == ("user-login", "registration", "order-placement")
    assert first.describe() == (
        "POST /api/auth/login returns 503 in user-login, registration and order-placement "
        "since 05:02 UTC; first seen in user-login"
    )
    assert [i.failures for i in incidents] == [3, 1, 1]


def test_failures_every_night_at_two_are_a_recurring_pattern() -> None:
    nights = [_failure("product-listing", d * 1440 + 1263) for d in range(5)]
    (pattern,) = find_patterns(nights)
    assert pattern.recurring_hour == 2
    assert "every day around 02:00" in pattern.describe()


@pytest.mark.parametrize(
    ("slope", "noise", "significant"),
    [
        (12.0, 5.0, True),  # +12 ms/day through noise
        (0.0, 5.0, False),  # flat
        (-3.0, 0.5, True),  # falling
    ],
)
def test_theil_sen_recovers_known_slopes(slope: float, noise: float, significant: bool) -> None:
    rng = np.random.default_rng(1)
    days = list(range(21))
    values = [300 + slope * d + rng.normal(0, noise) for d in days]
    values[5] = 5000  # an outage day does not tilt it
    found = trend(days, values, limit=800.0)
    assert found is not None
    assert found.significant is significant
    if significant:
        assert found.slope_per_day == pytest.approx(slope, abs=1.0)
    if slope > 0:
        assert found.crosses_in_days == pytest.approx((800 - found.last) / found.slope_per_day)
