"""Outbox retry decisions and the HTTP answers behind them (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from wfmon.alerts.notifiers.base import http_is_permanent, parse_retry_after
from wfmon.alerts.outbox import RetryPolicy, after_failure, backoff

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(backoff_s=5, max_backoff_s=600, max_age_s=86400)


def test_backoff_doubles_with_bounded_jitter_until_the_cap() -> None:
    rng = random.Random(7)
    for attempts, base in [(1, 5), (2, 10), (3, 20), (7, 320), (8, 600), (20, 600)]:
        for _ in range(50):
            delay = backoff(POLICY, attempts, rng.random())
            assert base * 0.75 <= delay <= base * 1.25


def test_gaps_keep_growing_whatever_the_jitter() -> None:
    # The worst case: the longest gap, then the shortest one after it.
    for attempts in range(1, 7):
        assert backoff(POLICY, attempts + 1, 0.0) > backoff(POLICY, attempts, 0.999999)


@pytest.mark.parametrize(
    ("permanent", "retry_after", "attempts", "age_h", "dead", "reason"),
    [
        (True, None, 1, 0, True, "permanent_failure"),  # a 401: dead at once
        (False, None, 1, 0, False, "backoff"),
        (False, 120.0, 1, 0, False, "retry_after"),  # the receiver's wish wins
        (False, 0.0, 1, 0, False, "retry_after"),  # ...but never a tight loop
        (False, None, 30, 23.99, True, "max_age_exceeded"),  # the next try would be past 24 h
        (False, 7200.0, 3, 23, True, "max_age_exceeded"),
    ],
)
def test_after_a_failure(
    permanent: bool,
    retry_after: float | None,
    attempts: int,
    age_h: float,
    dead: bool,
    reason: str,
) -> None:
    decision = after_failure(
        POLICY,
        attempts=attempts,
        created_at=NOW - timedelta(hours=age_h),
        now=NOW,
        permanent=permanent,
        retry_after_s=retry_after,
        rand=0.5,
    )
    assert (decision.dead, decision.reason) == (dead, reason)
    if reason == "retry_after" and retry_after:
        assert decision.retry_at == NOW + timedelta(seconds=retry_after)
    if reason == "retry_after" and not retry_after:
        assert decision.retry_at == NOW + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("status", "permanent"),
    [
        *[(code, True) for code in (400, 401, 403, 404, 410, 422)],  # the same next time
        *[(code, False) for code in (408, 425, 429, 500, 502, 503)],  # may pass later
    ],
)
def test_which_http_answers_are_permanent(status: int, permanent: bool) -> None:
    assert http_is_permanent(status) is permanent


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("Sun, 01 Mar 2026 12:01:30 GMT", 90.0),  # an HTTP date, 90 s ahead
        ("Sun, 01 Mar 2026 11:00:00 GMT", 0.0),  # in the past: now
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_a_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW.timestamp()) == seconds
