"""Short-lived memory for what many requests ask at once.

`TtlCache` keeps values for a few seconds (verified tokens and sessions: a database
round trip per request would be most of a request's cost). `Memo` adds single flight:
while a value is being computed, every other caller awaits that same computation, so a
hundred dashboards refreshing at once cost one query, not a hundred.
Times come from the clock's monotonic reading.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from wfmon.clock import Clock

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, clock: Clock, ttl_s: float, max_entries: int = 4096) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self._max = max_entries
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        expires, value = found
        if self._clock.monotonic() >= expires:
            del self._items[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = (self._clock.monotonic() + self.ttl_s, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()


class Memo(Generic[K, V]):
    """An async cache with single flight per key, serving stale values while refreshing.

    A value younger than `ttl_s` is served as is. An older one is still served, at once,
    while one background task computes the new value (stale-while-revalidate): nobody
    waits on a refresh, so a recomputation every second does not show up as a latency
    spike every second. Only a key never computed (or dropped for space) is waited for,
    and then by every caller on the same computation. The computation runs in a task of
    its own, so a caller that goes away does not cancel it for the others.
    """

    def __init__(self, clock: Clock, ttl_s: float, max_entries: int = 512) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self._max = max_entries
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._inflight: dict[K, asyncio.Task[V]] = {}
        self.computed = 0

    async def get(
        self, key: K, compute: Callable[[], Awaitable[V]], *, ttl_s: float | None = None
    ) -> V:
        """The value of `key`; `ttl_s` overrides the memo's freshness for this key."""
        found = self._items.get(key)
        if found is not None:
            fresh_until, value = found
            if self._clock.monotonic() >= fresh_until:
                self._start(key, compute, ttl_s)  # refresh in the background, serve this
            return value
        return await asyncio.shield(self._start(key, compute, ttl_s))

    def _start(
        self, key: K, compute: Callable[[], Awaitable[V]], ttl_s: float | None
    ) -> asyncio.Task[V]:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._run(key, compute, ttl_s))
            # Mark a failure as seen even if every waiter went away meanwhile.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._inflight[key] = task
        return task

    async def _run(self, key: K, compute: Callable[[], Awaitable[V]], ttl_s: float | None) -> V:
        try:
            value = await compute()
        finally:
            self._inflight.pop(key, None)
        self.computed += 1
        fresh_for = self.ttl_s if ttl_s is None else ttl_s
        self._items[key] = (self._clock.monotonic() + fresh_for, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        self._items.clear()
