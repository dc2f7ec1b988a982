"""Login throttling: a pure decision over recent failures, and a small in-memory store.

`decide` says whether another attempt is allowed, given the times of recent failures and
`now`; `LoginThrottle` keeps those times per (address, username) and per address (one
address guessing many usernames). In memory: one API process serves the logins, and a
restart forgetting a few minutes of failures costs an attacker a restart of ours.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: float = 0.0
    reason: str = "ok"  # ok | too_many_for_user | too_many_from_address


def decide(failures: Sequence[datetime], now: datetime, limit: int, window_s: float) -> Verdict:
    """Allowed unless `limit` failures fall within the window before `now`; if not,
    how long until the oldest of them leaves the window."""
    start = now - timedelta(seconds=window_s)
    recent = sorted(f for f in failures if f > start)
    if len(recent) < limit:
        return Verdict(True)
    oldest_that_counts = recent[len(recent) - limit]
    wait = (oldest_that_counts + timedelta(seconds=window_s) - now).total_seconds()
    return Verdict(False, max(wait, 1.0), "too_many")


@dataclass(frozen=True)
class ThrottlePolicy:
    per_user: int = 5
    per_address: int = 20
    window_s: float = 900.0


class LoginThrottle:
    MAX_KEYS = 10_000  # bounded memory under a spray of usernames

    def __init__(self, policy: ThrottlePolicy | None = None) -> None:
        self.policy = policy or ThrottlePolicy()
        self._failures: dict[tuple[str, str], deque[datetime]] = {}

    def check(self, address: str, username: str, now: datetime) -> Verdict:
        p = self.policy
        user = decide(self._get(address, username.lower()), now, p.per_user, p.window_s)
        if not user.allowed:
            return Verdict(False, user.retry_after_s, "too_many_for_user")
        anyone = decide(self._get(address, ""), now, p.per_address, p.window_s)
        if not anyone.allowed:
            return Verdict(False, anyone.retry_after_s, "too_many_from_address")
        return Verdict(True)

    def failed(self, address: str, username: str, now: datetime) -> None:
        for key in ((address, username.lower()), (address, "")):
            times = self._failures.pop(key, None)
            if times is None:
                if len(self._failures) >= self.MAX_KEYS:
                    # Dicts keep insertion order and a failure re-inserts its key: the
                    # first key is the least recently failed. O(1) under a spray.
                    del self._failures[next(iter(self._failures))]
                times = deque(maxlen=max(self.policy.per_address, 1))
            times.append(now)
            self._failures[key] = times

    def succeeded(self, address: str, username: str) -> None:
        self._failures.pop((address, username.lower()), None)

    def _get(self, address: str, username: str) -> Sequence[datetime]:
        return self._failures.get((address, username), ())
