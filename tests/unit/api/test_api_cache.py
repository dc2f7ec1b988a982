"""Short-lived caches: expiry on the clock, one computation for concurrent callers."""

from __future__ import annotations

import asyncio

from wfmon.api.cache import Memo, TtlCache
from wfmon.clock import FakeClock


def test_values_expire_after_their_time() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(clock, ttl_s=5, max_entries=2)
    cache.put("a", 1)
    assert cache.get("a") == 1
    clock.advance(5)
    assert cache.get("a") is None
    for key in ("x", "y", "z"):
        cache.put(key, 0)
    assert cache.get("x") is None  # the oldest went when a third came


async def test_concurrent_callers_share_one_computation() -> None:
    clock = FakeClock()
    memo: Memo[str, int] = Memo(clock, ttl_s=1)
    started = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()
        return 42

    waiters = [asyncio.create_task(memo.get("k", compute)) for _ in range(10)]
    await started.wait()
    release.set()
    assert await asyncio.gather(*waiters) == [42] * 10
    assert calls == 1
    assert await memo.get("k", compute) == 42  # cached


async def test_a_stale_value_is_served_at_once_while_it_is_refreshed() -> None:
    clock = FakeClock()
    memo: Memo[str, int] = Memo(clock, ttl_s=1)
    values = iter([1, 2])
    refreshed = asyncio.Event()

    async def compute() -> int:
        value = next(values)
        if value == 2:
            refreshed.set()
        return value

    assert await memo.get("k", compute) == 1
    clock.advance(1)
    assert await memo.get("k", compute) == 1  # stale, and a refresh started
    await refreshed.wait()
    await asyncio.sleep(0)  # let the refresh task store its value
    assert await memo.get("k", compute) == 2


async def test_a_caller_going_away_does_not_cancel_the_computation() -> None:
    memo: Memo[str, int] = Memo(FakeClock(), ttl_s=1)
    release = asyncio.Event()

    async def compute() -> int:
        await release.wait()
        return 7

    first = asyncio.create_task(memo.get("k", compute))
    await asyncio.sleep(0)
    second = asyncio.create_task(memo.get("k", compute))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == 7
