"""The composition root: builds and wires everything. No globals anywhere else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from wfmon.clock import Clock, SystemClock
from wfmon.config.loader import LoadResult, load
from wfmon.httpclient import HttpClientFactory
from wfmon.runner.context import EngineLimits
from wfmon.runner.engine import Engine
from wfmon.settings import Settings
from wfmon.storage import (
    Database,
    ExecutionRepository,
    HealthCheckRepository,
    WorkflowRepository,
    open_database,
)


@dataclass
class App:
    settings: Settings
    clock: Clock
    http: HttpClientFactory
    engine: Engine
    db: Database
    executions: ExecutionRepository
    workflows: WorkflowRepository
    health: HealthCheckRepository
    config: LoadResult | None = field(default=None)

    def load_config(self, *, check_env: bool = True) -> LoadResult:
        self.config = load(self.settings.config_path, check_env=check_env)
        return self.config


@asynccontextmanager
async def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    limits: EngineLimits | None = None,
    shared_connections: bool = False,
) -> AsyncIterator[App]:
    """Open the database (migrating it), build the engine; close everything on exit."""
    the_clock = clock or SystemClock()
    http = HttpClientFactory(clock=the_clock, shared=shared_connections)
    engine = Engine(http=http, clock=the_clock, limits=limits or EngineLimits())
    db = await open_database(settings.database_url)
    try:
        yield App(
            settings=settings,
            clock=the_clock,
            http=http,
            engine=engine,
            db=db,
            executions=ExecutionRepository(db),
            workflows=WorkflowRepository(db),
            health=HealthCheckRepository(db),
        )
    finally:
        await http.aclose()
        await db.dispose()
