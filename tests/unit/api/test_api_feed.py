"""The live feed's fan-out: one poll for all clients, resume, slow clients dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime

from wfmon.api.feed import EventHub, FeedEvent
from wfmon.clock import FakeClock
from wfmon.storage.event_log import EventLogRepository, StoredEvent

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class MemoryLog:
    """The event log's reads, in memory."""

    def __init__(self) -> None:
        self.rows: list[StoredEvent] = []
        self.reads = 0

    def add(self, kind: str, **data: object) -> int:
        event = StoredEvent(len(self.rows) + 1, kind, dict(data), T0)
        self.rows.append(event)
        return event.id

    async def after(
        self, last_id: int, limit: int = 1000, kinds: Collection[str] | None = None
    ) -> list[StoredEvent]:
        self.reads += 1
        found = [r for r in self.rows if r.id > last_id and (not kinds or r.kind in kinds)]
        return found[:limit]

    async def latest_id(self) -> int:
        return self.rows[-1].id if self.rows else 0


def hub_on(log: MemoryLog, queue_size: int = 100) -> EventHub:
    repo: EventLogRepository = log  # type: ignore[assignment]  # the same reads, duck-typed
    return EventHub(repo, FakeClock(T0), poll_s=3600, queue_size=queue_size)


async def take(stream: object, n: int) -> list[FeedEvent]:
    found = []
    async for event in stream:  # type: ignore[attr-defined]
        found.append(event)
        if len(found) == n:
            break
    return found


async def test_one_poll_reaches_every_client() -> None:
    log = MemoryLog()
    hub = hub_on(log)
    await hub.start()
    streams = [hub.open() for _ in range(50)]
    log.add("health.changed", ok=False)
    reads = log.reads
    await hub.poll_once()
    assert log.reads == reads + 1
    for stream in streams:
        [event] = await asyncio.wait_for(take(stream, 1), 1)
        assert event.sse.startswith(b"id: 1\nevent: health.changed\ndata: ")
        assert event.message.startswith('{"id":1,"kind":"health.changed"')
    await hub.close()


async def test_a_resumed_stream_replays_what_it_missed_then_goes_live() -> None:
    log = MemoryLog()
    first = log.add("a", n=1)
    log.add("a", n=2)
    log.add("b", n=3)
    hub = hub_on(log)
    await hub.start()
    stream = hub.open(first)
    log.add("a", n=4)
    await hub.poll_once()
    events = await asyncio.wait_for(take(stream, 3), 1)
    assert [e.data["n"] for e in events] == [2, 3, 4]
    filtered = hub.open(0, kinds={"b"})
    [only] = await asyncio.wait_for(take(filtered, 1), 1)
    assert only.data == {"n": 3}
    await hub.close()


async def test_a_client_that_falls_behind_is_dropped_and_may_resume() -> None:
    log = MemoryLog()
    hub = hub_on(log, queue_size=2)
    await hub.start()
    slow = hub.open()
    for n in range(5):
        log.add("a", n=n)
    await hub.poll_once()
    assert slow.dropped
    assert hub.clients == 0
    assert [e.data["n"] async for e in slow] == []  # ended, no partial replay
    again = hub.open(0)
    events = await asyncio.wait_for(take(again, 5), 1)
    assert [e.data["n"] for e in events] == [0, 1, 2, 3, 4]
    await hub.close()


async def test_closing_the_hub_ends_every_stream() -> None:
    hub = hub_on(MemoryLog())
    await hub.start()
    stream = hub.open()
    await hub.close()
    assert [e async for e in stream] == []
    assert [e async for e in hub.open()] == []
