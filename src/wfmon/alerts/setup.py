"""Alerting's share of a loaded config, as one value the service, sender and CLI take."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wfmon.alerts.config import AlertsSpec, SilenceSpec
from wfmon.alerts.notifiers import ChannelBase
from wfmon.alerts.outbox import RetryPolicy
from wfmon.alerts.pipeline import Policy
from wfmon.domain.workflow import Workflow

if TYPE_CHECKING:
    from wfmon.config.loader import LoadResult


@dataclass(frozen=True)
class AlertingConfig:
    spec: AlertsSpec = field(default_factory=AlertsSpec)
    channels: tuple[ChannelBase, ...] = ()
    silences: tuple[SilenceSpec, ...] = ()
    workflows: tuple[Workflow, ...] = ()
    health_interval_s: float = 300.0  # how often the daemon writes its heartbeat

    @classmethod
    def from_load(cls, result: LoadResult) -> AlertingConfig:
        return cls(
            spec=result.alerts,
            channels=tuple(result.channels),
            silences=tuple(result.silences),
            workflows=tuple(result.workflows),
            health_interval_s=result.daemon.health_interval,
        )

    @classmethod
    def of(
        cls,
        workflows: Sequence[Workflow],
        spec: AlertsSpec | None = None,
        channels: Sequence[ChannelBase] = (),
        silences: Sequence[SilenceSpec] = (),
    ) -> AlertingConfig:
        return cls(spec or AlertsSpec(), tuple(channels), tuple(silences), tuple(workflows))

    def workflow(self, name: str) -> Workflow | None:
        return self._by_name.get(name)

    def channel(self, name: str) -> ChannelBase | None:
        return next((c for c in self.channels if c.name == name), None)

    @property
    def _by_name(self) -> dict[str, Workflow]:
        cached: dict[str, Workflow] | None = self.__dict__.get("_index")
        if cached is None:
            cached = {w.name: w for w in self.workflows}
            object.__setattr__(self, "_index", cached)  # a frozen value's derived cache
        return cached

    @property
    def policy(self) -> Policy:
        return Policy(
            reopen_within_s=self.spec.reopen_within,
            remind_every_s=self.spec.remind_every,
            dashboard_url=self.spec.dashboard_url,
            channels=self.channels,
        )

    @property
    def retry(self) -> RetryPolicy:
        outbox = self.spec.outbox
        return RetryPolicy(outbox.backoff, outbox.max_backoff, outbox.max_age)
