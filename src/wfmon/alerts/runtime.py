"""Alerting in the daemon: the service and the sender, built and run together.

The composition root (daemon.py) builds one `Alerting`, subscribes it to the bus, runs it
beside the scheduler and hands it every reloaded config. Nothing here is global.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from wfmon.alerts.sender import OutboxSender
from wfmon.alerts.service import AlertService
from wfmon.alerts.setup import AlertingConfig
from wfmon.clock import Clock
from wfmon.config.loader import LoadResult
from wfmon.events import EventBus
from wfmon.storage import Database

SUBSCRIBED = ("execution.finished", "anomaly.detected", "anomaly.resolved")


@dataclass
class Alerting:
    service: AlertService
    sender: OutboxSender

    @classmethod
    def build(
        cls,
        *,
        db: Database,
        clock: Clock,
        config: LoadResult | AlertingConfig,
        instance: str,
        bus: EventBus | None = None,
        started_at: datetime | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Alerting:
        settings = (
            config if isinstance(config, AlertingConfig) else AlertingConfig.from_load(config)
        )
        sender = OutboxSender(
            db=db,
            clock=clock,
            config=settings,
            instance=instance,
            environ=os.environ if environ is None else environ,
        )
        service = AlertService(
            db=db,
            clock=clock,
            config=settings,
            started_at=started_at,
            on_outbox=sender.wake.set,
            bus=bus,
        )
        alerting = cls(service, sender)
        if bus is not None:
            for kind in SUBSCRIBED:
                bus.subscribe(service.on_event, kind)
        return alerting

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: judge alerts and deliver the outbox."""
        await self.service.sync_silences()
        await asyncio.gather(self.service.run_forever(stop), self.sender.run_forever(stop))

    async def reload(self, config: LoadResult | AlertingConfig) -> None:
        settings = (
            config if isinstance(config, AlertingConfig) else AlertingConfig.from_load(config)
        )
        self.service.configure(settings)
        self.sender.configure(settings)
        await self.service.sync_silences()
