"""Retry decisions for the notification outbox (pure; the sender applies them).

Transient failures are retried with exponential backoff (×2 per attempt from `backoff_s`
up to `max_backoff_s`) and ±25% jitter, so 1,000 notifications that failed together do not
retry together. ±25% keeps the gaps strictly growing until the cap (the shortest next gap,
2 × 0.75, is longer than the longest last one, 1.25). A `Retry-After` from the receiver is
honoured instead. A permanent failure is dead at once; a row still failing `max_age_s`
after it was written is dead too, and stays visible (`wfmon notify list --status dead`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

JITTER = 0.25
MIN_DELAY_S = 1.0  # a `Retry-After: 0` must not become a tight loop


@dataclass(frozen=True)
class RetryPolicy:
    backoff_s: float = 5.0
    max_backoff_s: float = 600.0
    max_age_s: float = 86400.0


@dataclass(frozen=True)
class AfterFailure:
    dead: bool
    retry_at: datetime | None
    reason: str


def backoff(policy: RetryPolicy, attempts: int, rand: float) -> float:
    """Seconds before the next try after `attempts` failed ones; `rand` in [0, 1)."""
    base = min(policy.max_backoff_s, policy.backoff_s * 2.0 ** max(0, attempts - 1))
    return max(MIN_DELAY_S, base * (1.0 + JITTER * (2.0 * rand - 1.0)))


def after_failure(
    policy: RetryPolicy,
    *,
    attempts: int,
    created_at: datetime,
    now: datetime,
    permanent: bool,
    retry_after_s: float | None,
    rand: float,
) -> AfterFailure:
    """What to do with a batch whose attempt number `attempts` just failed."""
    if permanent:
        return AfterFailure(True, None, "permanent_failure")
    if retry_after_s is not None:
        delay, reason = max(MIN_DELAY_S, retry_after_s), "retry_after"
    else:
        delay, reason = backoff(policy, attempts, rand), "backoff"
    retry_at = now + timedelta(seconds=delay)
    if retry_at - created_at > timedelta(seconds=policy.max_age_s):
        return AfterFailure(True, None, "max_age_exceeded")
    return AfterFailure(False, retry_at, reason)
