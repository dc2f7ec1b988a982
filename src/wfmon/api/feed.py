"""The live event feed: one poller of the event log, fanned out to every client.

The daemon's journal writes each event to `event_log`; here ONE task reads new rows
(`id > last`) every `poll_s`, or at once when the journal of this same process says it
wrote, encodes each event once (an SSE frame and a WebSocket message) and puts it on
every client's queue. A thousand clients cost one query per poll and a queue append each.

A client that falls `queue_size` events behind is dropped (its stream ends); it
reconnects with the last id it saw and catches up from the table, like any resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from wfmon.clock import Clock, sleep_or_event
from wfmon.errors import StorageError
from wfmon.storage.event_log import EventLogRepository, StoredEvent

log = logging.getLogger(__name__)

BACKLOG_PAGE = 1000


@dataclass(frozen=True)
class FeedEvent:
    id: int
    kind: str
    data: dict[str, object]
    at: datetime
    sse: bytes  # the whole SSE frame
    message: str  # the WebSocket text message (JSON)

    @classmethod
    def of(cls, stored: StoredEvent) -> FeedEvent:
        data = orjson.dumps(stored.data, default=str)
        message = orjson.dumps(
            {"id": stored.id, "kind": stored.kind, "at": stored.created_at, "data": stored.data},
            default=str,
        ).decode()
        frame = b"id: %d\nevent: %s\ndata: %s\n\n" % (stored.id, stored.kind.encode(), data)
        return cls(stored.id, stored.kind, stored.data, stored.created_at, frame, message)


@dataclass(eq=False)
class Subscription:
    kinds: frozenset[str] | None
    queue: asyncio.Queue[FeedEvent | None]
    dropped: bool = False

    def wants(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds


@dataclass
class FeedStats:
    polls: int = 0
    delivered: int = 0
    dropped_clients: int = 0
    listeners: list[Callable[[FeedEvent], None]] = field(default_factory=list)


class EventHub:
    def __init__(
        self,
        repo: EventLogRepository,
        clock: Clock,
        *,
        poll_s: float = 0.15,
        queue_size: int = 1000,
    ) -> None:
        self._repo = repo
        self._clock = clock
        self.poll_s = poll_s
        self.queue_size = queue_size
        self._subscriptions: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._closed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_id = 0
        self.stats = FeedStats()

    @property
    def clients(self) -> int:
        return len(self._subscriptions)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def on_event(self, listener: Callable[[FeedEvent], None]) -> None:
        """Call `listener` for each new event, once (e.g. Prometheus counters)."""
        self.stats.listeners.append(listener)

    async def start(self) -> None:
        self.last_id = await self._repo.latest_id()
        self._task = asyncio.create_task(self._poll_forever(), name="wfmon-event-feed")

    def wake(self) -> None:
        """New rows were written: poll now rather than at the next tick."""
        self._wake.set()

    async def close(self) -> None:
        """Stop polling and end every client's stream."""
        self._closed.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for subscription in list(self._subscriptions):
            _end(subscription)

    async def poll_once(self) -> int:
        """Read and fan out new events; returns how many."""
        rows = await self._repo.after(self.last_id, BACKLOG_PAGE)
        self.stats.polls += 1
        for row in rows:
            event = FeedEvent.of(row)
            self.last_id = event.id
            for listener in self.stats.listeners:
                listener(event)
            for subscription in list(self._subscriptions):
                if subscription.wants(event.kind):
                    self._deliver(subscription, event)
        return len(rows)

    def _deliver(self, subscription: Subscription, event: FeedEvent) -> None:
        try:
            subscription.queue.put_nowait(event)
            self.stats.delivered += 1
        except asyncio.QueueFull:
            subscription.dropped = True
            self.stats.dropped_clients += 1
            self._subscriptions.discard(subscription)
            _end(subscription)

    async def _poll_forever(self) -> None:
        while not self._closed.is_set():
            try:
                while await self.poll_once() == BACKLOG_PAGE:
                    pass
            except StorageError as error:
                log.warning(
                    "event feed poll failed: %s", error, extra={"event": "feed.poll_failed"}
                )
            self._wake.clear()
            await sleep_or_event(self._clock, self.poll_s, self._wake, self._closed)

    def open(self, last_id: int | None = None, kinds: Collection[str] | None = None) -> Stream:
        """A client's stream: subscribed now, so nothing published from here on is missed.

        It yields the events after `last_id` (the stored ones first), then live ones, in
        id order, each once; without `last_id`, only what happens from now on. It ends
        when the hub closes or the client falls too far behind."""
        wanted = frozenset(kinds) if kinds else None
        subscription = Subscription(wanted, asyncio.Queue(self.queue_size))
        start = self.last_id if last_id is None or last_id > self.last_id else last_id
        if self.closed:
            _end(subscription)
        else:
            self._subscriptions.add(subscription)
        return Stream(self, subscription, start)

    def _unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    async def _backlog(self, after: int, kinds: frozenset[str] | None) -> list[FeedEvent]:
        return [FeedEvent.of(row) for row in await self._repo.after(after, BACKLOG_PAGE, kinds)]


class Stream:
    def __init__(self, hub: EventHub, subscription: Subscription, start: int) -> None:
        self._hub = hub
        self._subscription = subscription
        self.sent = start

    def __aiter__(self) -> AsyncIterator[FeedEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[FeedEvent]:
        hub, subscription = self._hub, self._subscription
        if subscription.dropped:
            return
        try:
            # Subscribed first, then the backlog: nothing written in between is missed,
            # and the id check below drops what both deliver.
            while self.sent < hub.last_id:
                page = await hub._backlog(self.sent, subscription.kinds)
                for event in page:
                    self.sent = event.id
                    yield event
                if len(page) < BACKLOG_PAGE:
                    break
            while True:
                item = await subscription.queue.get()
                if item is None:
                    return
                if item.id > self.sent:
                    self.sent = item.id
                    yield item
        finally:
            self.close()

    @property
    def dropped(self) -> bool:
        return self._subscription.dropped

    def close(self) -> None:
        self._hub._unsubscribe(self._subscription)


def _end(subscription: Subscription) -> None:
    """End the client's stream now: what it had not read yet is dropped with it (a client
    that resumes gets it again from the table)."""
    queue = subscription.queue
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(None)
