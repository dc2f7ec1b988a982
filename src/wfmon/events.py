"""The in-process event bus: the scheduler publishes, alerting and live views subscribe.

Subscribers are async callables; one that raises is logged and never stops the others or
the publisher (a broken dashboard must not lose an alert, nor the reverse).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    kind: str  # execution.finished | alert.changed | health.changed | workflow.changed
    data: dict[str, Any] = field(default_factory=dict)
    payload: Any = None  # the domain object, for in-process subscribers


Subscriber = Callable[[Event], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[tuple[str | None, Subscriber]] = []

    def subscribe(self, subscriber: Subscriber, kind: str | None = None) -> None:
        """Receive events of one kind, or every event when `kind` is None."""
        self._subscribers.append((kind, subscriber))

    async def publish(self, event: Event) -> None:
        for kind, subscriber in list(self._subscribers):
            if kind is not None and kind != event.kind:
                continue
            try:
                await subscriber(event)
            except Exception:
                log.exception(
                    "subscriber failed",
                    extra={"event": "bus.subscriber_failed", "kind": event.kind},
                )
