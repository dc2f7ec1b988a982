"""The outbox sender: claims due notifications, sends each batch, records the answer.

A batch is marked sent only after the receiver accepted it; a crash in between leaves the
claim to expire (or to this instance's next start, `start()`), and the batch goes out
again with the same delivery id. Transient failures are retried by `outbox.after_failure`
(backoff with jitter, Retry-After), permanent ones are dead at once, and one channel's
trouble never holds up another's: batches are sent concurrently, each on its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp

from wfmon.alerts.messages import Message, MessageRenderer
from wfmon.alerts.notifiers import ChannelBase, Delivery, SendContext
from wfmon.alerts.outbox import after_failure
from wfmon.alerts.setup import AlertingConfig
from wfmon.clock import Clock, sleep_or_event
from wfmon.errors import NotifierError, StorageError
from wfmon.storage import Database, OutboxRepository
from wfmon.storage.outbox import Batch

log = logging.getLogger(__name__)


async def deliver(
    channel: ChannelBase,
    message: Message,
    session: aiohttp.ClientSession,
    clock: Clock,
    environ: Mapping[str, str],
) -> Delivery:
    """Send one message on one channel: the outbox's path and `wfmon notify test`'s."""
    ctx = SendContext(http=session, environ=environ, clock=clock, timeout_s=channel.timeout)
    return await channel.send(message, ctx)


@dataclass
class SenderStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0


@dataclass
class OutboxSender:
    db: Database
    clock: Clock
    config: AlertingConfig
    instance: str
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    rng: random.Random = field(default_factory=random.Random)
    concurrency: int = 16
    poll_s: float = 1.0
    stats: SenderStats = field(default_factory=SenderStats)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._outbox = OutboxRepository(self.db)
        self._renderer = MessageRenderer(self.config.spec.templates)
        self._session: aiohttp.ClientSession | None = None

    def configure(self, config: AlertingConfig) -> None:
        self.config = config
        self._renderer = MessageRenderer(config.spec.templates)

    async def start(self) -> int:
        """Release the claims this instance held when it last stopped (a crash)."""
        released = await self._outbox.release(self.instance)
        if released:
            log.warning(
                "%d notification(s) claimed before a crash will be sent again",
                released,
                extra={"event": "notify.released"},
            )
        return released

    async def run_once(self) -> int:
        """Claim what is due and send it; returns how many batches were handled."""
        now = self.clock.now()
        batches = await self._outbox.claim(self.instance, now, self.config.spec.outbox.claim)
        if not batches:
            return 0
        limit = asyncio.Semaphore(self.concurrency)

        async def one(batch: Batch) -> None:
            async with limit:
                await self._deliver(batch)

        await asyncio.gather(*(one(b) for b in batches))
        return len(batches)

    async def run_forever(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            while not stop.is_set():
                self.wake.clear()
                try:
                    handled = await self.run_once()
                    if handled:
                        continue
                    due = await self._outbox.next_due()
                except StorageError as error:
                    log.error("outbox unavailable: %s", error, extra={"event": "notify.storage"})
                    due = None
                delay = self.poll_s
                if due is not None:
                    delay = min(delay, max(0.0, (due - self.clock.now()).total_seconds()))
                await sleep_or_event(self.clock, delay, stop, self.wake)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- one batch --------------------------------------------------------------------------

    def message(self, batch: Batch) -> Message:
        return self._renderer.render(
            delivery_id=f"{batch.batch_id}-{int(batch.created_at.timestamp())}",
            channel=batch.channel,
            group_key=batch.group_key,
            items=batch.items,
        )

    async def send(self, channel: ChannelBase, message: Message) -> Delivery:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return await deliver(channel, message, self._session, self.clock, self.environ)

    async def _deliver(self, batch: Batch) -> None:
        channel = self.config.channel(batch.channel)
        try:
            if channel is None:
                raise NotifierError(
                    f"channel {batch.channel!r} is not in the config any more", permanent=True
                )
            delivery = await self.send(channel, self.message(batch))
        except NotifierError as error:
            await self._failed(batch, error)
            return
        except Exception as error:  # a bug or a template error: retried, then dead
            log.exception("sending failed", extra={"event": "notify.crashed"})
            await self._failed(
                batch, NotifierError(f"{type(error).__name__}: {error}", permanent=False)
            )
            return
        await self._outbox.sent(batch.batch_id, self.clock.now(), delivery.status, delivery.answer)
        self.stats.sent += 1
        log.info(
            "notification %s sent on %s (%d item(s))",
            batch.batch_id,
            batch.channel,
            len(batch.items),
            extra={"event": "notify.sent", "channel": batch.channel, "status": delivery.status},
        )

    async def _failed(self, batch: Batch, error: NotifierError) -> None:
        now = self.clock.now()
        decision = after_failure(
            self.config.retry,
            attempts=batch.attempts + 1,
            created_at=batch.created_at,
            now=now,
            permanent=error.permanent,
            retry_after_s=error.retry_after,
            rand=self.rng.random(),
        )
        code = getattr(error, "status", None)
        await self._outbox.failed(
            batch.batch_id, retry_at=decision.retry_at, error=str(error), code=code
        )
        if decision.dead:
            self.stats.dead += 1
            log.error(
                "notification %s on %s is dead (%s): %s",
                batch.batch_id,
                batch.channel,
                decision.reason,
                error,
                extra={"event": "notify.dead", "channel": batch.channel},
            )
        else:
            self.stats.retried += 1
            log.warning(
                "notification %s on %s failed, retrying at %s: %s",
                batch.batch_id,
                batch.channel,
                decision.retry_at,
                error,
                extra={"event": "notify.retry", "channel": batch.channel},
            )
