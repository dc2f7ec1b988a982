"""Building blocks for API tests: a real API server on loopback over a real database."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from wfmon.api.app import create_api, services_of
from wfmon.api.auth.passwords import hash_password
from wfmon.api.context import ApiContext
from wfmon.api.server import ApiServer
from wfmon.api.services import ApiServices
from wfmon.api.settings import ApiSettings
from wfmon.api.wiring import routers
from wfmon.app import App
from wfmon.clock import SystemClock
from wfmon.config.loader import load
from wfmon.domain.run import ExecutionResult, ExecutionStatus, StepResult, StepStatus, Timings
from wfmon.events import Event, EventBus
from wfmon.httpclient import HttpClientFactory
from wfmon.journal import Journal, JournalOptions
from wfmon.runner.engine import Engine
from wfmon.settings import Settings
from wfmon.storage import (
    Database,
    ExecutionRepository,
    HealthCheckRepository,
    WorkflowRepository,
)
from wfmon.storage.accounts import UserRepository
from wfmon.storage.rollups import RollupBatch, RollupRepository
from wfmon.storage.tables_alerts import alert_events, alerts

XSS = "<script>alert(1)</script>"
PASSWORD = "correct horse battery"  # every test user's
FAST_HASH_N = 2**4  # scrypt cost for test users: the stored hash carries it


def config_text(target: str) -> str:
    return f"""
workflows:
  - name: checkout
    description: Buy a thing
    public: true
    schedule: "*/5 * * * *"
    tags: [shop]
    steps:
      - name: home
        type: http
        url: {target}/json
        headers:
          Authorization: Bearer literal-secret-123
        expect: {{status: 200}}
  - name: "{XSS}"
    schedule: {{every: 60s}}
    steps:
      - name: ping
        type: http
        url: "{target}/json"
  - name: private
    schedule: {{every: 300s}}
    steps:
      - name: ping
        type: http
        url: "{target}/json"
"""


@dataclass
class Harness:
    url: str
    app: App
    bus: EventBus
    services: ApiServices
    journal: Journal
    read_token: str
    write_token: str
    tmp: Path
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def db(self) -> Database:
        return self.app.db

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10, **kwargs)
        self.clients.append(client)
        return client

    def reader(self) -> httpx.AsyncClient:
        return self.client(self.read_token)

    def writer(self) -> httpx.AsyncClient:
        return self.client(self.write_token)

    async def session(self, username: str = "alice") -> tuple[httpx.AsyncClient, str]:
        """A client logged in as `username`, and its CSRF token."""
        client = self.client()
        answer = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        return client, answer.json()["csrf_token"]

    async def publish(self, kind: str, data: dict[str, Any], payload: Any = None) -> None:
        await self.bus.publish(Event(kind, data, payload))
        await self.journal.flush()
        self.services.hub.wake()

    async def record(self, results: Sequence[ExecutionResult]) -> list[int | None]:
        """Store executions and their rollups, as the daemon would."""
        ids = await self.app.executions.record_many(results)
        batch = RollupBatch()
        for r in results:
            batch.add_result(r)
        await RollupRepository(self.db).apply(batch)
        return ids


def execution(
    started_at: datetime,
    *,
    workflow: str = "checkout",
    location: str = "local",
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED,
    duration_ms: float = 100.0,
    steps: tuple[StepResult, ...] | None = None,
    trigger: str = "schedule",
) -> ExecutionResult:
    if steps is None:
        steps = (
            StepResult(
                name="home",
                type="http",
                status=StepStatus.SUCCEEDED
                if status is ExecutionStatus.SUCCEEDED
                else StepStatus.FAILED,
                started_at=started_at,
                timings=Timings(dns_ms=1.0, connect_ms=2.0, ttfb_ms=30.0, total_ms=duration_ms),
                extracted={"token": "tok-abcdef", "order_id": 42},
                request={"method": "GET", "url": "https://shop.test/?api_key=k-123456"},
                response_status=200,
                response_headers={"Content-Type": "application/json", "Set-Cookie": "s=1"},
                body_excerpt='{"ok": true}',
            ),
        )
    return ExecutionResult(
        workflow=workflow,
        location=location,
        slot_at=started_at,
        started_at=started_at,
        finished_at=started_at + timedelta(milliseconds=duration_ms),
        status=status,
        steps=steps,
        trigger=trigger,
        elapsed_ms=duration_ms,
    )


def now_utc() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _http_factory() -> HttpClientFactory:
    # Holds only SSL contexts (80 ms to build) when not shared: one for every test.
    return HttpClientFactory(clock=SystemClock())


async def compose_app(db: Database, tmp: Path, target: str) -> App:
    """The composition root's App, on a database a fixture opened."""
    config = tmp / "wfmon.yaml"
    config.write_text(config_text(target), encoding="utf-8")
    settings = Settings.from_env({}, config_path=config, data_dir=tmp, database_url="unused")
    clock = SystemClock()
    http = _http_factory()
    app = App(
        settings=settings,
        clock=clock,
        http=http,
        engine=Engine(http=http, clock=clock),
        db=db,
        executions=ExecutionRepository(db),
        workflows=WorkflowRepository(db),
        health=HealthCheckRepository(db),
    )
    loaded = load(config)
    assert not loaded.problems, loaded.problems
    await app.workflows.sync(loaded.workflows, clock.now())
    return app


async def add_user(db: Database, username: str, role: str = "admin") -> None:
    hashed = hash_password(PASSWORD, n=FAST_HASH_N)
    assert await UserRepository(db).add(username, hashed, role, now_utc()) is not None


@asynccontextmanager
async def running_api(
    db: Database,
    tmp: Path,
    target: str,
    settings: ApiSettings | None = None,
    *,
    analytics: bool = True,
) -> AsyncIterator[Harness]:
    """The API on loopback, with the other features' routers mounted as `wfmon run`
    mounts them (unless `analytics=False`)."""
    app = await compose_app(db, tmp, target)
    bus = EventBus()
    journal = Journal(db, app.clock, JournalOptions(event_flush_s=0.0, backfill_on_start=False))
    journal.attach(bus)
    chosen = settings or ApiSettings(event_poll_s=0.05, heartbeat_s=30.0, public_status=True)
    extra = routers(app) if analytics else []
    ctx = ApiContext(app=app, bus=bus, settings=chosen, journal=journal, routers=extra)
    await add_user(db, "alice", "admin")
    await add_user(db, "victor", "viewer")
    server = ApiServer(create_api(ctx), "127.0.0.1", 0)
    services = services_of(server.api)
    read, _ = await services.tokens.create("grafana", "read")
    write, _ = await services.tokens.create("ci", "write")
    stop = asyncio.Event()
    journal_task = asyncio.create_task(journal.run(stop))
    await server.start()
    harness = Harness(
        url=server.url,
        app=app,
        bus=bus,
        services=services,
        journal=journal,
        read_token=read.token,
        write_token=write.token,
        tmp=tmp,
    )
    try:
        yield harness
    finally:
        for client in harness.clients:
            await client.aclose()
        await server.stop()
        stop.set()
        await journal_task


async def firing_alert(api: Harness) -> int:
    """A firing alert about checkout, with the event that opened it; its id."""
    now = now_utc() - timedelta(minutes=5)
    async with api.db.write() as conn:
        alert_id = (
            await conn.execute(
                sa.insert(alerts).returning(alerts.c.id),
                {
                    "dedup_key": "failed_in_a_row:checkout",
                    "episode": 1,
                    "rule": "failed_in_a_row",
                    "kind": "failure",
                    "severity": "critical",
                    "state": "firing",
                    "summary": "checkout failed 3 times in a row",
                    "workflow": "checkout",
                    "location": None,
                    "group_key": "checkout",
                    "tags": ["shop"],
                    "opened_at": now,
                    "changed_at": now,
                    "details": {"streak": 3},
                    "version": 1,
                },
            )
        ).scalar_one()
        await conn.execute(
            sa.insert(alert_events),
            {
                "alert_id": alert_id,
                "at": now,
                "actor": "system",
                "kind": "fired",
                "from_state": None,
                "to_state": "firing",
                "reason": "failed_in_a_row",
                "message": "failed 3 times",
                "execution_ids": [1, 2, 3],
                "note": None,
                "data": {},
            },
        )
    return int(alert_id)
