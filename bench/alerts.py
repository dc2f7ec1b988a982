"""Alert latency and notification count with N workflows failing at once.

N workflows (`journey-0000`...) on H target hosts (`shop-0.example`...), rule
`consecutive_failures` (2 in a row), one webhook channel to an aiohttp receiver on
loopback. Alerting runs as in the daemon (`Alerting.run`: the service loop and the outbox
sender, the real SystemClock, SQLite in a temp dir or PostgreSQL).

1. Each workflow's first failure is recorded and published (no alert yet); the service
   settles.
2. "At once": every workflow's second failure is recorded in batches of 256 (as the batch
   recorder writes them) and each batch's `execution.finished` events are published right
   after its commit. The time of the commit is each execution's "recorded" time.
3. The receiver notes when each alert arrives; latency = arrival - recorded, per alert.

Printed: latency p50/p99/max, notifications received (grouped, it must be about H, one per
host, not N), and the service's own time to judge the burst. Each mode runs in a fresh
database: grouped (`--window`, default the documented 30 s) and "no wait" (window 0: each
notice goes out as soon as it is written, so the latency is the pipeline's own; notices one
planning pass writes for one host still share a message).

    .venv/bin/python bench/alerts.py            # 1,000 workflows, 5 hosts, both modes
    .venv/bin/python bench/alerts.py --quick    # 100 workflows
    .venv/bin/python bench/alerts.py --db postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from aiohttp import web

from wfmon.alerts.runtime import Alerting
from wfmon.clock import SystemClock
from wfmon.config.loader import load
from wfmon.domain.run import ExecutionResult, ExecutionStatus, StepResult, StepStatus
from wfmon.events import Event, EventBus
from wfmon.storage import Database, ExecutionRepository, WorkflowRepository, open_database

BATCH = 256  # the batch recorder's size: executions committed together
REFERENCE_MAX_NOTIFICATIONS_PER_HOST = 2  # "a handful": at most this many per host


@dataclass
class Figures:
    mode: str
    workflows: int
    hosts: int
    window_s: float
    notifications: int
    alerts_received: int
    p50_s: float
    p99_s: float
    max_s: float
    judge_s: float  # from the first commit of the burst until the service had judged it all


def config_text(n: int, hosts: int, window_s: float, hook: str) -> str:
    lines = [
        "daemon: {watch: false}",
        "alerts:",
        "  rules: [{kind: consecutive_failures, failures: 2}]",
        "  heartbeat: {enabled: false}",
        f"  grouping: {{window: {window_s}s}}",
        "channels:",
        f'  - {{name: hook, kind: webhook, url: "{hook}/hook"}}',
        "workflows:",
    ]
    for i in range(n):
        lines += [
            f"  - name: journey-{i:04d}",
            '    schedule: "* * * * *"',
            f'    steps: [{{name: pay, type: http, url: "https://shop-{i % hosts}.example/pay"}}]',
        ]
    return "\n".join(lines) + "\n"


def failed(name: str, at: datetime) -> ExecutionResult:
    step = StepResult("pay", "http", StepStatus.FAILED, at, error="HTTP 503")
    return ExecutionResult(
        workflow=name,
        location="local",
        slot_at=at,
        started_at=at,
        finished_at=at,
        status=ExecutionStatus.FAILED,
        steps=(step,),
        elapsed_ms=5.0,
    )


@asynccontextmanager
async def hook_receiver(
    arrivals: dict[str, float], counts: list[int], expected: int, done: asyncio.Event
) -> AsyncIterator[str]:
    async def handle(request: web.Request) -> web.Response:
        now = time.perf_counter()
        payload = await request.json()
        counts.append(len(payload["items"]))
        for item in payload["items"]:
            arrivals.setdefault(item["alert"]["workflow"], now)
        if len(arrivals) >= expected:
            done.set()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def database(url: str | None) -> AsyncIterator[Database]:
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            db = await open_database(f"sqlite:///{tmp}/wfmon.db")
            try:
                yield db
            finally:
                await db.dispose()
        return
    name = f"wfmon_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        db = await open_database(sa.make_url(url).set(database=name).render_as_string(False))
        try:
            yield db
        finally:
            await db.dispose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def record_and_publish(
    executions: ExecutionRepository, bus: EventBus, results: list[ExecutionResult]
) -> dict[str, float]:
    """Commit in batches and publish each batch's events; returns commit times."""
    recorded: dict[str, float] = {}
    for start in range(0, len(results), BATCH):
        batch = results[start : start + BATCH]
        ids = await executions.record_many(batch)
        committed = time.perf_counter()
        for result, execution_id in zip(batch, ids, strict=True):
            recorded[result.workflow] = committed
            data = {"id": execution_id, "workflow": result.workflow, "location": "local"}
            await bus.publish(Event("execution.finished", data, result))
    return recorded


async def idle(alerting: Alerting, timeout_s: float) -> None:
    """Until the service has judged everything queued (polled: the bench observes the
    service from outside, as an operator would)."""
    deadline = time.perf_counter() + timeout_s
    while alerting.service.busy or alerting.service.kick.is_set():
        if time.perf_counter() > deadline:
            raise TimeoutError("the alert service did not settle")
        await asyncio.sleep(0.01)


async def run(n: int, hosts: int, window_s: float, db_url: str | None) -> Figures:
    arrivals: dict[str, float] = {}
    counts: list[int] = []
    all_arrived = asyncio.Event()
    async with hook_receiver(arrivals, counts, n, all_arrived) as hook, database(db_url) as db:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "wfmon.yaml"
            path.write_text(config_text(n, hosts, window_s, hook))
            config = load(path)
            assert not config.problems, config.problems[:3]
        clock = SystemClock()
        await WorkflowRepository(db).sync(config.workflows, clock.now())
        bus = EventBus()
        alerting = Alerting.build(db=db, clock=clock, config=config, instance="bench", bus=bus)
        alerting.service.tick_s = 60.0  # the periodic check is not what is measured
        executions = ExecutionRepository(db)
        stop = asyncio.Event()
        task = asyncio.create_task(alerting.run(stop))
        names = [w.name for w in config.workflows]

        first = clock.now() - timedelta(minutes=1)
        await record_and_publish(executions, bus, [failed(name, first) for name in names])
        await idle(alerting, 120)

        burst_start = time.perf_counter()
        recorded = await record_and_publish(
            executions, bus, [failed(name, clock.now()) for name in names]
        )
        await idle(alerting, 300)
        judge_s = time.perf_counter() - burst_start

        with contextlib.suppress(TimeoutError):  # reported: alerts received < workflows
            await asyncio.wait_for(all_arrived.wait(), timeout=window_s + 120)
        stop.set()
        await task

    latencies = sorted(arrivals[w] - recorded[w] for w in arrivals)
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else []
    return Figures(
        mode="grouped" if window_s > 0 else "no wait",
        workflows=n,
        hosts=hosts,
        window_s=window_s,
        notifications=len(counts),
        alerts_received=len(arrivals),
        p50_s=round(q[49] if q else latencies[0], 3),
        p99_s=round(q[98] if q else latencies[0], 3),
        max_s=round(latencies[-1], 3),
        judge_s=round(judge_s, 3),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--window", type=float, default=30.0, help="grouping window, seconds")
    parser.add_argument("--quick", action="store_true", help="100 workflows, a 5 s window")
    parser.add_argument("--db", default=None, help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.workflows, args.window = 100, 5.0
    logging.basicConfig(level=logging.WARNING)
    started = datetime.now(UTC)
    results = [
        asyncio.run(run(args.workflows, args.hosts, window, args.db))
        for window in (args.window, 0.0)
    ]
    print(f"alerts bench, {started:%Y-%m-%d %H:%M} UTC, {'PostgreSQL' if args.db else 'SQLite'}")
    header = f"{'mode':<13} {'window':>7} {'alerts':>7} {'notices':>8} {'p50 s':>8} {'p99 s':>8}"
    print(header + f" {'max s':>8} {'judge s':>8}")
    for f in results:
        print(
            f"{f.mode:<13} {f.window_s:>6g}s {f.alerts_received:>7} {f.notifications:>8} "
            f"{f.p50_s:>8.3f} {f.p99_s:>8.3f} {f.max_s:>8.3f} {f.judge_s:>8.3f}"
        )
    grouped = results[0]
    limit = REFERENCE_MAX_NOTIFICATIONS_PER_HOST * grouped.hosts
    ok = grouped.alerts_received == grouped.workflows and grouped.notifications <= limit
    print(
        f"notifications / alerts with grouping: {grouped.notifications}/{grouped.alerts_received}"
        f" = {grouped.notifications / max(1, grouped.alerts_received):.3f} "
        f"(reference: at most {limit}, {'met' if ok else 'MISSED'})"
    )
    if args.json:
        print(json.dumps([asdict(f) for f in results], indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
