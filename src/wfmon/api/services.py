"""The objects routes use, built once per app from an ApiContext (`build_services`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from wfmon.alerts.operator import AlertOperator
from wfmon.alerts.setup import AlertingConfig
from wfmon.api.auth.deps import Authenticator
from wfmon.api.auth.ratelimit import LoginThrottle, ThrottlePolicy
from wfmon.api.auth.sessions import SessionManager, SessionPolicy
from wfmon.api.auth.tokens import TokenService
from wfmon.api.cache import Memo
from wfmon.api.config_source import ConfigFile
from wfmon.api.context import ApiContext
from wfmon.api.feed import EventHub
from wfmon.api.metrics import ApiMetrics
from wfmon.api.overview import OverviewBuilder
from wfmon.api.runs import ManualRuns
from wfmon.api.schemas import OverviewOut
from wfmon.api.settings import ApiSettings
from wfmon.clock import Clock
from wfmon.storage import (
    AlertRepository,
    Database,
    ExecutionRepository,
    HealthCheckRepository,
    SilenceRepository,
    WorkflowRepository,
)
from wfmon.storage.accounts import SessionRepository, UserRepository
from wfmon.storage.event_log import EventLogRepository
from wfmon.storage.lookups import count_alerts, pending_notifications
from wfmon.storage.rollups import RollupRepository
from wfmon.storage.tokens import TokenRepository

Rendered = tuple[OverviewOut, bytes]


@dataclass
class ApiServices:
    ctx: ApiContext
    settings: ApiSettings
    clock: Clock
    db: Database
    executions: ExecutionRepository
    workflows: WorkflowRepository
    health: HealthCheckRepository
    rollups: RollupRepository
    users: UserRepository
    sessions: SessionManager
    tokens: TokenService
    auth: Authenticator
    throttle: LoginThrottle
    hub: EventHub
    runs: ManualRuns
    metrics: ApiMetrics
    overview_builder: OverviewBuilder
    overview_memo: Memo[str, Rendered]
    series_memo: Memo[tuple[object, ...], bytes]
    alerts: AlertRepository
    silences: SilenceRepository
    alerting: Callable[[], AlertingConfig]

    def operator(self) -> AlertOperator:
        """Acknowledge, resolve, silence: the same code as the CLI's."""
        return AlertOperator(self.db, self.clock, self.alerting())

    async def overview(self) -> Rendered:
        """The overview, computed at most once per `overview_ttl_s`."""

        async def compute() -> Rendered:
            model = await self.overview_builder.build(self.clock.now())
            return model, model.model_dump_json().encode()

        return await self.overview_memo.get("overview", compute)

    def now(self) -> datetime:
        return self.clock.now()


def build_services(ctx: ApiContext) -> ApiServices:
    app = ctx.app
    settings = ctx.settings
    clock = ctx.clock or app.clock
    db = app.db
    sessions = SessionManager(
        SessionRepository(db),
        clock,
        SessionPolicy(settings.session_idle_s, settings.session_max_s, settings.secure_cookies),
        cache_s=settings.auth_cache_s,
    )
    tokens = TokenService(TokenRepository(db), clock, cache_s=settings.auth_cache_s)
    hub = EventHub(
        EventLogRepository(db),
        clock,
        poll_s=settings.event_poll_s,
        queue_size=settings.client_queue,
    )
    metrics = ApiMetrics(alerting=True, outbox_depth=functools.partial(pending_notifications, db))
    hub.on_event(metrics.observe)
    if ctx.journal is not None:
        ctx.journal.on_flush(hub.wake)
    runs = ManualRuns(
        engine=app.engine,
        executions=app.executions,
        bus=ctx.bus,
        clock=clock,
        workflows=ctx.workflows or ConfigFile(app.settings.config_path).workflows,
        limit=settings.max_manual_runs,
    )
    return ApiServices(
        ctx=ctx,
        settings=settings,
        clock=clock,
        db=db,
        executions=app.executions,
        workflows=app.workflows,
        health=app.health,
        rollups=RollupRepository(db),
        users=UserRepository(db),
        sessions=sessions,
        tokens=tokens,
        auth=Authenticator(sessions, tokens),
        throttle=LoginThrottle(
            ThrottlePolicy(
                settings.login_failures_per_user,
                settings.login_failures_per_ip,
                settings.login_window_s,
            )
        ),
        hub=hub,
        runs=runs,
        metrics=metrics,
        overview_builder=OverviewBuilder(db, functools.partial(count_alerts, db, "firing")),
        overview_memo=Memo(clock, settings.overview_ttl_s),
        # A chart's answer is some 16 KB: 2,048 series stay within 32 MB.
        series_memo=Memo(clock, settings.timeseries_ttl_s, max_entries=2048),
        alerts=AlertRepository(db),
        silences=SilenceRepository(db),
        alerting=ctx.alerting or ConfigFile(app.settings.config_path, check_env=False).alerting,
    )
