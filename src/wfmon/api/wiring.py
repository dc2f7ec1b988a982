"""How the API and its data services join a daemon, or run on their own.

`attach(daemon)` (for `wfmon run`): the journal (event log + rollups) and retention always,
since a separate `wfmon serve` reads what they write; the API server unless `api=False`
(`wfmon run --no-api`). `serve(app, settings, stop)` (for `wfmon serve`): the API alone
against the same database, with a journal of its own for the runs it starts by hand.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence

from fastapi import APIRouter

from wfmon.analytics.api import analytics_router
from wfmon.api.context import ApiContext
from wfmon.api.server import api_service
from wfmon.api.settings import ApiSettings
from wfmon.app import App
from wfmon.daemon import Daemon
from wfmon.domain.workflow import Workflow
from wfmon.events import EventBus
from wfmon.journal import Journal, JournalOptions, Retention, RetentionPolicy
from wfmon.storage.analytics import AnalyticsRepository


def routers(app: App) -> list[APIRouter]:
    """The other features' routers, mounted under /api/v1 behind the read scope."""
    return [analytics_router(AnalyticsRepository(app.db), app.clock)]


def attach(
    daemon: Daemon,
    *,
    api: bool = True,
    settings: ApiSettings | None = None,
    retention: RetentionPolicy | None = None,
) -> Journal:
    """Add the journal, retention and (unless `api=False`) the API to a daemon's services;
    call before `daemon.run()`. Returns the journal."""
    app = daemon.app
    journal = Journal(app.db, app.clock)
    journal.attach(daemon.bus)
    daemon.services.append(journal.run)
    daemon.services.append(
        Retention(app.db, app.clock, retention or RetentionPolicy.from_env()).run
    )
    if api:
        chosen = settings or ApiSettings.from_env()

        def workflows() -> Sequence[Workflow]:
            return daemon.config.workflows if daemon.config is not None else []

        ctx = ApiContext(
            app=app,
            bus=daemon.bus,
            settings=chosen,
            journal=journal,
            workflows=workflows,
            routers=routers(app),
        )
        daemon.services.append(functools.partial(api_service, ctx, chosen.host, chosen.port))
    return journal


async def serve(app: App, settings: ApiSettings, stop: asyncio.Event) -> None:
    """The API on its own until `stop` is set (live events come through the database)."""
    bus = EventBus()
    # Its own runs only: rollups backfill and retention are the daemon's job.
    journal = Journal(app.db, app.clock, JournalOptions(backfill_on_start=False))
    journal.attach(bus)
    ctx = ApiContext(app=app, bus=bus, settings=settings, journal=journal, routers=routers(app))
    await asyncio.gather(journal.run(stop), api_service(ctx, settings.host, settings.port, stop))
