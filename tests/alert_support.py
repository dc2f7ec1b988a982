"""Helpers for the alerting tests: executions to record, and a real webhook receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from wfmon.domain.run import (
    AssertionResult,
    ExecutionResult,
    ExecutionStatus,
    StepResult,
    StepStatus,
    Timings,
)


def execution(
    workflow: str,
    ok: bool,
    at: datetime,
    *,
    location: str = "local",
    duration_ms: float = 100.0,
    step_ms: dict[str, float] | None = None,
    tls_days: float | None = None,
) -> ExecutionResult:
    """A finished execution of `workflow` at `at`: a `login` step that got 200, or 503."""
    steps = [
        StepResult(
            name="login",
            type="http",
            status=StepStatus.SUCCEEDED if ok else StepStatus.FAILED,
            started_at=at,
            timings=Timings(total_ms=(step_ms or {}).get("login", duration_ms)),
            assertions=(AssertionResult("status", "==", 200, 200 if ok else 503, ok),),
            response_status=200 if ok else 503,
        )
    ]
    for name, ms in (step_ms or {}).items():
        if name != "login":
            steps.append(StepResult(name, "http", StepStatus.SUCCEEDED, at, Timings(total_ms=ms)))
    if tls_days is not None:
        steps.append(
            StepResult(
                "cert",
                "tls",
                StepStatus.SUCCEEDED,
                at,
                assertions=(
                    AssertionResult("certificate days to expiry", ">=", 1, tls_days, True),
                ),
            )
        )
    return ExecutionResult(
        workflow=workflow,
        location=location,
        slot_at=at,
        started_at=at,
        finished_at=at + timedelta(milliseconds=duration_ms),
        status=ExecutionStatus.SUCCEEDED if ok else ExecutionStatus.FAILED,
        steps=tuple(steps),
        elapsed_ms=duration_ms,
    )


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    answered: int = 0


Responder = Callable[[Received], "int | tuple[int, dict[str, str]]"]


@dataclass
class Receiver:
    """A loopback HTTP server that records every request and answers as told."""

    url: str
    requests: list[Received] = field(default_factory=list)
    respond: Responder = lambda _: 200
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    hold: asyncio.Event | None = None  # when set up, requests wait for it before answering

    def for_path(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    box: list[Receiver] = []

    async def handle(request: web.Request) -> web.Response:
        recv = box[0]
        body = await request.read()
        try:
            data = await request.json()
        except ValueError:
            data = None
        got = Received(request.path, dict(request.headers), body, data)
        recv.requests.append(got)
        recv.arrived.set()
        if recv.hold is not None:
            await recv.hold.wait()
        answer = recv.respond(got)
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        got.answered = status
        return web.Response(status=status, text=f"answer {status}", headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    box.append(Receiver(url=f"http://127.0.0.1:{port}"))
    try:
        yield box[0]
    finally:
        if box[0].hold is not None:
            box[0].hold.set()
        await runner.cleanup()


# --- a whole alerting pipeline on a fake clock ---------------------------------------------

from pathlib import Path  # noqa: E402

from wfmon.alerts.runtime import Alerting  # noqa: E402
from wfmon.clock import FakeClock  # noqa: E402
from wfmon.config.loader import LoadResult, load  # noqa: E402
from wfmon.events import Event, EventBus  # noqa: E402
from wfmon.storage import Database, ExecutionRepository, WorkflowRepository  # noqa: E402


def load_config(tmp_path: Path, text: str) -> LoadResult:
    path = tmp_path / "wfmon.yaml"
    path.write_text(text, encoding="utf-8")
    result = load(path, environ={"HOOK_SECRET": "s3cret"})
    assert not result.problems, "\n".join(str(p) for p in result.problems)
    return result


@dataclass
class Rig:
    """Records executions, lets the alert service judge them, and delivers the outbox, all
    on a FakeClock: `await rig.run("checkout", ok=False)` is one run a minute later."""

    db: Database
    clock: FakeClock
    alerting: Alerting
    bus: EventBus
    executions: ExecutionRepository

    @classmethod
    async def build(cls, db: Database, config: LoadResult, clock: FakeClock) -> Rig:
        bus = EventBus()
        alerting = Alerting.build(
            db=db,
            clock=clock,
            config=config,
            instance="test-sender",
            bus=bus,
            started_at=clock.now(),
            environ={"HOOK_SECRET": "s3cret"},
        )
        await WorkflowRepository(db).sync(config.workflows, clock.now())
        await alerting.service.sync_silences()
        return cls(db, clock, alerting, bus, ExecutionRepository(db))

    async def run(self, workflow: str, ok: bool, *, every_s: float = 60, **kwargs: Any) -> int:
        self.clock.advance(every_s)
        result = execution(workflow, ok, self.clock.now(), **kwargs)
        [execution_id] = await self.executions.record_many([result])
        assert execution_id is not None
        data = {"id": execution_id, "workflow": workflow, "location": result.location}
        await self.bus.publish(Event("execution.finished", data, result))
        await self.alerting.service.process()
        return execution_id

    async def runs(self, workflow: str, outcomes: str, **kwargs: Any) -> None:
        """'FFS': failed, failed, succeeded, a minute apart."""
        for outcome in outcomes:
            await self.run(workflow, outcome == "S", **kwargs)

    async def deliver(self) -> int:
        """Let the grouping window pass and send everything due; returns batches sent."""
        self.clock.advance(self.alerting.service.config.spec.grouping.window + 1)
        handled = 0
        while n := await self.alerting.sender.run_once():
            handled += n
        return handled

    async def tick(self, advance_s: float = 0) -> int:
        self.clock.advance(advance_s)
        return await self.alerting.service.tick()

    async def close(self) -> None:
        await self.alerting.sender.aclose()
