"""API latency under load, and live-event fan-out, over a million stored executions.

For each database (SQLite, PostgreSQL):

1. store N executions (default 1,000,000; 3 steps each) of 100 workflows over the last 30
   days with bulk SQL (`INSERT ... SELECT` from a number series: seconds, not minutes),
   then build the rollups from them with `wfmon.storage.rollup_backfill.backfill` (the
   upgrade path) and ANALYZE;
2. serve the API in its own process (`python -m wfmon serve`, uvloop, the real stack) and
   load it from this process with aiohttp: `--clients` concurrent keep-alive clients
   (default 100), each sending its next request when the last one answered, for
   `--duration` seconds (default 30) after a 3 s warm-up, on
   - `GET /api/v1/overview`,
   - `GET /api/v1/metrics/timeseries`, a dashboard mix (10 workflows x p95/success rate
     over 24 h: what a page of charts asks),
   - `GET /api/v1/metrics/timeseries`, a random mix (any of 100 workflows, any of 4 step
     keys, 4 metrics, 24 h or 7 d: 3,200 distinct series, so mostly computed afresh);
   printing p50/p95/p99 latency and requests/s of each;
3. connect `--sse-clients` SSE clients (default 1,000) and record `--events` executions
   (default 20, one every 0.5 s) the way the daemon does (execution rows and an event-log
   row, from this process: the API learns of them through the database, the separate-
   process path), timing how long until every client has each one (p50/p99 over events of
   the last client's arrival) and each client's own delay.

    .venv/bin/python bench/api.py                     # both databases, about 8 minutes
    .venv/bin/python bench/api.py --db sqlite --quick  # 100,000 executions, 10 s runs
    .venv/bin/python bench/api.py --json               # also the figures as JSON
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import aiohttp
import asyncpg
import sqlalchemy as sa

from wfmon.api.auth.tokens import TokenService
from wfmon.clock import SystemClock
from wfmon.config.loader import load
from wfmon.domain.run import ExecutionResult, ExecutionStatus
from wfmon.storage import (
    Database,
    ExecutionRepository,
    HealthCheckRepository,
    WorkflowRepository,
    open_database,
)
from wfmon.storage.event_log import EventLogRepository
from wfmon.storage.rollup_backfill import backfill
from wfmon.storage.tokens import TokenRepository

# Run as a script, bench/ is on sys.path; mypy, run from the repository root, names the
# module bench._target.
if TYPE_CHECKING:
    from bench._target import BenchError, free_port, machine, stop, tail
else:
    from _target import BenchError, free_port, machine, stop, tail

Db = Literal["sqlite", "postgresql"]
WORKFLOWS = 100
SPAN_S = 30 * 86400  # the executions cover the last 30 days
STEPS = (("home", 0.2), ("cart", 0.3), ("pay", 0.5))
TARGET_P95_MS = 50.0
TARGET_SSE_P99_MS = 500.0
WARMUP_S = 3.0
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def name(i: int) -> str:
    return f"wf-{i:03d}"


# --- data ----------------------------------------------------------------------------------


def config_yaml() -> str:
    lines = ["daemon: {watch: false}", "workflows:"]
    for i in range(WORKFLOWS):
        lines += [
            f"  - name: {name(i)}",
            f"    public: {'true' if i % 10 == 0 else 'false'}",
            "    schedule: {every: 259s}",
            "    steps:",
        ]
        for step, _ in STEPS:
            lines.append(f"      - {{name: {step}, type: http, url: 'http://127.0.0.1:9/{step}'}}")
    return "\n".join(lines) + "\n"


def executions_sql(dialect: Db) -> str:
    """N executions: workflow i % 100, one slot every `every` s per workflow, 2 % failed,
    durations 80-480 ms; pseudo-random but the same every run."""
    if dialect == "sqlite":
        stamp = "strftime('%Y-%m-%d %H:%M:%S', {t}, 'unixepoch') || '.000000'"
        fine = "strftime('%Y-%m-%d %H:%M:%f', {t}, 'unixepoch') || '000'"
        slot = stamp.format(t=":start + (i / :workflows) * :every")
        done = fine.format(
            t=":start + (i / :workflows) * :every + (80 + (i * 7919) % 400) / 1000.0"
        )
        source = (
            "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n"
            " WHERE i < :count - 1) SELECT i FROM n)"
        )
        wf = "printf('wf-%03d', i % :workflows)"
    else:
        slot = "to_timestamp(:start + (i / :workflows) * :every)"
        done = "to_timestamp(:start + (i / :workflows) * :every + (80 + (i * 7919) % 400) / 1000.0)"
        source = "(SELECT generate_series(0::bigint, :count - 1) AS i)"
        wf = "'wf-' || lpad((i % :workflows)::text, 3, '0')"
    failed = "(i * 104729) % 50 = 0"
    return f"""
        INSERT INTO executions (workflow, location, slot_at, trigger, status, attempts,
            started_at, finished_at, duration_ms, error, workflow_version, claimed_by)
        SELECT {wf}, 'local', {slot}, 'schedule',
            CASE WHEN {failed} THEN 'failed' ELSE 'succeeded' END, 1,
            {slot}, {done}, 80 + (i * 7919) % 400,
            CASE WHEN {failed} THEN 'pay: expected status 200, got 503' END, 'v1', 'bench'
        FROM {source} AS s
    """  # noqa: S608  # constants only


def steps_sql(dialect: Db) -> str:
    parts = " UNION ALL ".join(
        f"SELECT {pos} AS pos, '{step}' AS name, {share} AS share"
        for pos, (step, share) in enumerate(STEPS)
    )
    return f"""
        INSERT INTO step_results (execution_id, position, name, type, status, started_at,
            dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms, response_status, error, assertions,
            extracted, request, response_headers, body_excerpt, body_truncated, redirects)
        SELECT e.id, p.pos, p.name, 'http',
            CASE WHEN e.status = 'failed' AND p.pos = 2 THEN 'failed' ELSE 'succeeded' END,
            e.started_at, 1.0, 2.0, NULL, e.duration_ms * p.share * 0.6,
            e.duration_ms * p.share,
            CASE WHEN e.status = 'failed' AND p.pos = 2 THEN 503 ELSE 200 END, NULL,
            {_json(dialect, "[]")}, {_json(dialect, "{}")},
            {_json(dialect, '{"method": "GET", "url": "https://shop.test/"}')},
            {_json(dialect, "{}")}, NULL, {"false" if dialect == "postgresql" else "0"},
            {_json(dialect, "[]")}
        FROM executions e CROSS JOIN ({parts}) p
    """  # noqa: S608  # constants only


def _json(dialect: Db, text: str) -> str:
    return f"'{text}'::jsonb" if dialect == "postgresql" else f"'{text}'"


@dataclass
class Loaded:
    executions: int
    steps: int
    insert_s: float
    backfill_s: float
    rollup_rows: int


async def load_data(db: Database, dialect: Db, count: int, config: Path) -> Loaded:
    clock = SystemClock()
    now = clock.now()
    every = max(1, round(SPAN_S * WORKFLOWS / count))
    start = int(now.timestamp()) - (count // WORKFLOWS) * every
    params = {"count": count, "workflows": WORKFLOWS, "every": every, "start": start}
    began = time.perf_counter()
    async with db.write() as conn:
        await conn.execute(sa.text(executions_sql(dialect)), params)
        await conn.execute(sa.text(steps_sql(dialect)))
    inserted = time.perf_counter() - began
    await WorkflowRepository(db).sync(load(config).workflows, now)
    health = HealthCheckRepository(db)
    data = {"instance": "bench", "pid": 1, "interval_s": 300.0, "uptime_s": 3600.0}
    await health.add(now, "heartbeat", True, None, "up", data)
    await health.add(now, "database", True, 1.0, "ok")
    await health.add(now, "scheduler_lag", True, None, "ok", {"p50_s": 0.01, "p99_s": 0.05})
    began = time.perf_counter()
    done = await backfill(db, chunk=20_000)
    filled = time.perf_counter() - began
    async with db.write() as conn:
        await conn.execute(sa.text("ANALYZE"))
        rows = 0
        for table in ("rollups_minute", "rollups_hour"):
            rows += (await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608
        steps = (await conn.execute(sa.text("SELECT count(*) FROM step_results"))).scalar_one()
    return Loaded(done, int(steps), round(inserted, 1), round(filled, 1), int(rows))


# --- load ----------------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def met(self) -> bool:
        return self.p95_ms < TARGET_P95_MS and self.errors == 0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def hammer(
    base: str,
    token: str,
    label: str,
    paths: Callable[[random.Random], str],
    clients: int,
    seconds: float,
) -> Figures:
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(base, headers=headers, connector=connector) as session:

        async def client(seed: int, until: float, record: bool) -> None:
            nonlocal errors
            rng = random.Random(seed)
            while time.perf_counter() < until:
                path = paths(rng)
                began = time.perf_counter()
                async with session.get(path) as resp:
                    await resp.read()
                    ok = resp.status == 200
                if record:
                    latencies.append((time.perf_counter() - began) * 1000.0)
                    errors += 0 if ok else 1

        warm_until = time.perf_counter() + WARMUP_S
        await asyncio.gather(*(client(i, warm_until, False) for i in range(clients)))
        began = time.perf_counter()
        await asyncio.gather(*(client(1000 + i, began + seconds, True) for i in range(clients)))
        elapsed = time.perf_counter() - began
    return Figures(
        label,
        len(latencies),
        errors,
        round(len(latencies) / elapsed, 1),
        round(percentile(latencies, 50), 1),
        round(percentile(latencies, 95), 1),
        round(percentile(latencies, 99), 1),
    )


def overview(_: random.Random) -> str:
    return "/api/v1/overview"


def dashboard(rng: random.Random) -> str:
    wf = name(rng.randrange(10) * 10)
    metric = rng.choice(("duration_p95", "success_rate"))
    return f"/api/v1/metrics/timeseries?workflow={wf}&metric={metric}&since=24h"


def scattered(rng: random.Random) -> str:
    wf = name(rng.randrange(WORKFLOWS))
    metric = rng.choice(("duration_p50", "duration_p95", "duration_p99", "success_rate"))
    since = rng.choice(("24h", "7d"))
    step = rng.choice(("", "&step=home", "&step=cart", "&step=pay"))
    return f"/api/v1/metrics/timeseries?workflow={wf}&metric={metric}&since={since}{step}"


# --- live events ---------------------------------------------------------------------------


@dataclass
class Fanout:
    clients: int
    events: int
    delivered: int
    all_p50_ms: float  # per event: until the last client had it
    all_p99_ms: float
    each_p50_ms: float  # per delivery
    each_p99_ms: float
    connect_s: float

    @property
    def met(self) -> bool:
        return self.all_p99_ms < TARGET_SSE_P99_MS and self.delivered == self.clients * self.events


async def fanout(base: str, token: str, db: Database, clients: int, events: int) -> Fanout:
    arrivals: dict[int, list[float]] = {}
    ready = 0
    all_ready = asyncio.Event()
    everything = asyncio.Event()
    delivered = [0]
    headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)

    async with aiohttp.ClientSession(
        base, headers=headers, connector=connector, timeout=timeout
    ) as session:

        async def listen() -> None:
            nonlocal ready
            async with session.get("/api/v1/events?kind=execution.finished") as resp:
                assert resp.status == 200, resp.status
                async for raw in resp.content:
                    line = raw.decode().strip()
                    if line.startswith("retry:"):
                        ready += 1
                        if ready == clients:
                            all_ready.set()
                    elif line.startswith("id:"):
                        arrivals.setdefault(int(line[3:]), []).append(time.perf_counter())
                        delivered[0] += 1
                        if delivered[0] == clients * events:
                            everything.set()

        began = time.perf_counter()
        tasks = [asyncio.create_task(listen()) for _ in range(clients)]
        await asyncio.wait_for(all_ready.wait(), 120)
        connect_s = time.perf_counter() - began
        log = EventLogRepository(db)
        executions = ExecutionRepository(db)
        sent: dict[int, float] = {}
        for _ in range(events):
            # What the daemon does: record the execution, then (its journal) the event.
            now = datetime.now(UTC)
            result = ExecutionResult(
                "wf-000", "bench", now, now, now, ExecutionStatus.SUCCEEDED, elapsed_ms=100.0
            )
            [execution_id] = await executions.record_many([result])
            recorded = time.perf_counter()
            data = {"id": execution_id, "workflow": "wf-000", "status": "succeeded"}
            [event_id] = await log.append([("execution.finished", data)], now)
            sent[event_id] = recorded
            await asyncio.sleep(0.5)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(everything.wait(), 10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    last = [
        (max(arrivals[i]) - t) * 1000
        for i, t in sent.items()
        if len(arrivals.get(i, ())) == clients
    ]
    each = [(a - t) * 1000 for i, t in sent.items() for a in arrivals.get(i, ())]
    return Fanout(
        clients,
        events,
        sum(len(arrivals.get(i, ())) for i in sent),
        round(percentile(last, 50), 1),
        round(percentile(last, 99), 1),
        round(percentile(each, 50), 1),
        round(percentile(each, 99), 1),
        round(connect_s, 1),
    )


# --- the server ----------------------------------------------------------------------------


def spawn(cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # a file, not a pipe nobody reads while we measure
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)


async def ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Wait (up to 30 s: importing wfmon takes seconds) until the server answers."""
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if process.poll() is not None:
                raise BenchError(f"the API exited with {process.returncode}: {tail(log)}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise BenchError(f"the API did not answer {url} within 30 s: {tail(log)}")


# --- one database --------------------------------------------------------------------------


@dataclass
class Result:
    db: Db
    loaded: Loaded
    load: list[Figures] = field(default_factory=list)
    sse: Fanout | None = None


@contextlib.asynccontextmanager
async def database(kind: Db, root: Path, admin_url: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{root}/wfmon.db"
        return
    db_name = f"wfmon_bench_api_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{db_name}"')
        try:
            yield admin_url.rsplit("/", 1)[0] + f"/{db_name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    finally:
        await admin.close()


async def run_one(kind: Db, args: argparse.Namespace) -> Result:
    root = Path(tempfile.mkdtemp(prefix=f"wfmon-bench-api-{kind}-"))
    try:
        return await _run_in(root, kind, args)
    finally:
        shutil.rmtree(root, ignore_errors=True)  # a million executions: 1.5 GB on SQLite


async def _run_in(root: Path, kind: Db, args: argparse.Namespace) -> Result:
    config = root / "wfmon.yaml"
    config.write_text(config_yaml())
    async with database(kind, root, args.admin_url) as url:
        db = await open_database(url)
        try:
            print(f"[{kind}] storing {args.executions:,} executions ...", flush=True)
            loaded = await load_data(db, kind, args.executions, config)
            print(f"[{kind}] {loaded}", flush=True)
            new, _ = await TokenService(TokenRepository(db), SystemClock()).create("bench", "read")
            result = Result(kind, loaded)
            port = free_port()
            env = {
                **os.environ,
                "WFMON_DATABASE_URL": url,
                "WFMON_CONFIG": str(config),
                "WFMON_DATA_DIR": str(root),
            }
            log = root / "api.log"
            cmd = [sys.executable, "-m", "wfmon", "serve", "--port", str(port)]
            server = spawn([*cmd, "--log-level", "warning"], log, env)
            try:
                base = f"http://127.0.0.1:{port}"
                await ready(server, base + "/healthz", log)
                for label, paths in (
                    ("overview", overview),
                    ("timeseries, dashboard mix", dashboard),
                    ("timeseries, random mix", scattered),
                ):
                    figures = await hammer(
                        base, new.token, label, paths, args.clients, args.duration
                    )
                    print(f"[{kind}] {figures}", flush=True)
                    result.load.append(figures)
                result.sse = await fanout(base, new.token, db, args.sse_clients, args.events)
                print(f"[{kind}] {result.sse}", flush=True)
            finally:
                stop(server)
            return result
        finally:
            await db.dispose()


def print_result(r: Result) -> None:
    print(f"\n## {r.db}: {r.loaded.executions:,} executions, {r.loaded.steps:,} steps")
    loaded = r.loaded
    print(
        f"stored in {loaded.insert_s} s; rollups built in {loaded.backfill_s} s "
        f"({loaded.rollup_rows:,} rows)"
    )
    print("| endpoint | requests/s | p50 ms | p95 ms | p99 ms | errors | p95 < 50 ms |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for f in r.load:
        verdict = "met" if f.met else "MISSED"
        print(
            f"| {f.name} | {f.rps:,.0f} | {f.p50_ms} | {f.p95_ms} | {f.p99_ms} | {f.errors} "
            f"| {verdict} |"
        )
    if r.sse is not None:
        s = r.sse
        print(
            f"SSE: {s.clients} clients, {s.events} events, {s.delivered:,} deliveries; "
            f"until all had it p50 {s.all_p50_ms} ms, p99 {s.all_p99_ms} ms "
            f"({'met' if s.met else 'MISSED'} < 500 ms); each delivery p50 {s.each_p50_ms} ms, "
            f"p99 {s.each_p99_ms} ms; connecting took {s.connect_s} s"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--executions", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--sse-clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--admin-url", default=os.environ.get("WFMON_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--quick", action="store_true", help="100,000 executions, 10 s runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.executions, args.duration, args.sse_clients, args.events = 100_000, 10.0, 200, 10
    return args


async def main() -> None:
    args = parse_args()
    kinds: list[Db] = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    info = machine("uvloop (server), asyncio (clients)")
    print(json.dumps(info))
    results = [await run_one(kind, args) for kind in kinds]
    for r in results:
        print_result(r)
    if args.json:
        print(json.dumps({"machine": info, "results": [asdict(r) for r in results]}, default=str))


if __name__ == "__main__":
    asyncio.run(main())
