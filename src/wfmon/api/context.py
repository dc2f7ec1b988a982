"""What `create_api` is built from: everything comes in, nothing is global."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter

from wfmon.alerts.setup import AlertingConfig
from wfmon.api.runs import WorkflowSource
from wfmon.api.settings import ApiSettings
from wfmon.app import App
from wfmon.clock import Clock
from wfmon.events import EventBus
from wfmon.journal import Journal


@dataclass
class ApiContext:
    """The composition root's App, the bus the daemon (or `wfmon serve`) publishes on,
    settings and clock (default: the App's).

    `workflows` supplies the valid workflows for manual runs (default: the config file,
    reloaded when it changes; the daemon may pass its own loaded config), `alerting` the
    alerting policy acknowledgements follow (default: the same file). `journal`, when
    this process has one, wakes the live feed as soon as events are written. `routers`
    are mounted under /api/v1 behind the read scope (analytics)."""

    app: App
    bus: EventBus
    settings: ApiSettings = field(default_factory=ApiSettings)
    clock: Clock | None = None
    workflows: WorkflowSource | None = None
    alerting: Callable[[], AlertingConfig] | None = None
    journal: Journal | None = None
    routers: Sequence[APIRouter] = ()
