"""Login throttling decisions: a pure function of recent failures and `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wfmon.api.auth.ratelimit import LoginThrottle, ThrottlePolicy, decide

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def ago(seconds: float) -> datetime:
    return T0 - timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("failures", "allowed", "retry_after"),
    [
        ([], True, 0.0),  # nothing yet
        ([ago(10)] * 4, True, 0.0),  # under the limit
        (
            [ago(100), ago(50), ago(40), ago(30), ago(20)],
            False,
            800.0,
        ),  # the oldest leaves at 800 s
        ([ago(1000)] * 5, True, 0.0),  # all outside the 900 s window
        ([ago(899.5)] * 5, False, 1.0),  # at least a second, never 0
    ],
)
def test_a_limit_of_failures_within_the_window_blocks_until_the_oldest_leaves(
    failures: list[datetime], allowed: bool, retry_after: float
) -> None:
    verdict = decide(failures, T0, limit=5, window_s=900)
    assert verdict.allowed is allowed
    assert verdict.retry_after_s == pytest.approx(retry_after)


def test_the_throttle_counts_per_user_and_per_address() -> None:
    throttle = LoginThrottle(ThrottlePolicy(per_user=2, per_address=3, window_s=60))
    for user in ("a", "a"):
        throttle.failed("1.2.3.4", user, T0)
    assert throttle.check("1.2.3.4", "A", T0).reason == "too_many_for_user"  # case-blind
    assert throttle.check("5.6.7.8", "a", T0).allowed  # another address
    throttle.failed("1.2.3.4", "b", T0)
    assert throttle.check("1.2.3.4", "c", T0).reason == "too_many_from_address"
    assert throttle.check("1.2.3.4", "c", T0 + timedelta(seconds=61)).allowed


def test_a_success_forgets_that_users_failures() -> None:
    throttle = LoginThrottle(ThrottlePolicy(per_user=2, per_address=10, window_s=60))
    throttle.failed("ip", "a", T0)
    throttle.succeeded("ip", "a")
    throttle.failed("ip", "a", T0)
    assert throttle.check("ip", "a", T0).allowed


def test_memory_stays_bounded_under_a_spray_of_usernames() -> None:
    throttle = LoginThrottle()
    for i in range(LoginThrottle.MAX_KEYS + 50):
        throttle.failed(f"10.0.{i // 250}.{i % 250}", f"user{i}", T0 + timedelta(seconds=i))
    assert len(throttle._failures) <= LoginThrottle.MAX_KEYS
