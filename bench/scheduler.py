"""Scheduler lag, missed slots, CPU per execution and peak RSS with N one-minute workflows.

N workflows `wf-00000`... on `* * * * *` with `jitter: 59s` (runs spread over the minute)
and `catch_up: none`, one http step each (`expect: {status: 200}`) against nginx serving a
small JSON file on a free loopback port. Everything runs in this process on uvloop with the
real SystemClock and SQLite or PostgreSQL: the whole daemon (`Daemon(app).run()`, default)
or the scheduler alone (`--driver scheduler`), until a service of ours stops it.

The workflows arrive by a reload of the running daemon (default: plans start at their next
slot, and so does the window) or at start-up (`--start cold`: slots whose jittered start
passed while loading run at once; the window starts SETTLE_S later). A run belongs to the
window when its intended start (slot + the workflow's jitter offset) is in it, so every
workflow has exactly one slot per minute of window.

- lag: start - (slot + offset), from `Scheduler.stats.lags_s` (every value kept, not just the
  last 10,000) and from the database (`started_at - slot_at - offset`);
- missed: window slots with a `missed` row or no row at all (expected = N x minutes);
- CPU per execution: process CPU time in the window / executions finished in it;
- RSS: peak (`ru_maxrss`, the whole process life, config load included) and at window end.

    .venv/bin/python bench/scheduler.py                      # 10,000 workflows, 5 minutes
    .venv/bin/python bench/scheduler.py --quick              # 1,000 workflows, 1 minute
    .venv/bin/python bench/scheduler.py --driver scheduler   # the scheduler alone
    .venv/bin/python bench/scheduler.py --search --minutes 2 # raise N until p99 lag >= 1 s
    .venv/bin/python bench/scheduler.py --db postgresql      # a database created and dropped
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import logging
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import asyncpg
import psutil
import sqlalchemy as sa
import uvloop

from wfmon.app import build_app
from wfmon.config.loader import load_strict
from wfmon.daemon import Daemon
from wfmon.runtime import tune_gc
from wfmon.scheduler.cron import jitter_offset
from wfmon.scheduler.scheduler import Scheduler, SchedulerOptions
from wfmon.settings import Settings
from wfmon.storage import open_database
from wfmon.storage.tables import executions

# Run as a script, bench/ is on sys.path; mypy, run from the repository root, names the
# module bench._target.
if TYPE_CHECKING:
    from bench._target import PATH, BenchError, machine, running, start_nginx, wait_ready
else:
    from _target import PATH, BenchError, machine, running, start_nginx, wait_ready

Db = Literal["sqlite", "postgresql"]
Start = Literal["reload", "cold"]
Driver = Literal["daemon", "scheduler"]
Service = Callable[[asyncio.Event], Coroutine[Any, Any, None]]

JITTER_S = 59.0
MAX_CONCURRENCY = 256
LOCATION = "local"
SETTLE_S = 15.0  # daemon up -> window start: the start-up burst drains first
TAIL_S = 10.0  # window end -> stop: the window's last runs start and finish
# Stop -> gone: the daemon's 30 s grace plus time to record the cancelled runs. An overloaded
# SQLite daemon was seen taking 5 s per cancelled run (`database is locked`), for hours.
SHUTDOWN_LIMIT_S = 120.0
LAG_P99_TARGET_S = 1.0
RSS_TARGET_MB = 300.0
SEARCH_COUNTS = (10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 60_000, 80_000, 120_000)
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
RAN = frozenset({"succeeded", "failed", "error", "timeout"})
SlotRow = sa.Row[str, datetime, datetime, str]  # workflow, slot_at, started_at, status


@dataclass(frozen=True)
class Plan:
    workflows: int
    minutes: float
    db: Db = "sqlite"
    max_concurrency: int = MAX_CONCURRENCY
    jitter_s: float = JITTER_S
    start: Start = "reload"
    driver: Driver = "daemon"


@dataclass(frozen=True)
class Lags:
    """Percentiles of a set of lags, in seconds."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Lags:
        if len(values) < 2:
            only = values[0] if values else math.nan
            return cls(len(values), only, only, only, only)
        cuts = statistics.quantiles(values, n=100, method="inclusive")
        return cls(len(values), cuts[49], cuts[94], cuts[98], max(values))


@dataclass
class Observation:
    """What the in-process observer saw; times are Unix seconds."""

    began: float = 0.0  # Daemon.run() called
    ready: float = 0.0  # the scheduler loop started
    startup_cpu_s: float = 0.0
    window: tuple[float, float] = (0.0, 0.0)
    cpu_s: float = 0.0  # in the window
    loop_cpu_s: float = 0.0  # in the window, the event loop's thread alone
    finished: int = 0  # in the window
    rss_end_mb: float = 0.0
    load_avg_end: float = 0.0  # other work on the machine moves every figure
    machine_cpu_s: float = 0.0  # in the window, every process (nginx and the database too)
    max_in_flight: int = 0
    max_backlog: int = 0
    shutdown_s: float = 0.0  # from stop to Daemon.run() returning, or to giving up on it
    shutdown_done: bool = True
    lags: list[tuple[float, float]] = field(default_factory=list)  # (taken at, lag)


@dataclass(frozen=True)
class Slots:
    """The database's account of the window's slots."""

    expected: int
    statuses: dict[str, int]
    missed: int  # a `missed` row or no row at all
    lags: Lags


@dataclass(frozen=True)
class Result:
    plan: Plan
    startup_s: float
    startup_cpu_s: float
    burst: Lags  # runs before the window (start-up)
    lags: Lags  # scheduler stats, window
    db: Slots
    finished: int
    cpu_s: float
    loop_cpu_s: float
    rss_peak_mb: float
    rss_end_mb: float
    load_avg_end: float
    machine_cpu_s: float
    max_in_flight: int
    max_backlog: int
    shutdown_s: float
    shutdown_done: bool
    stats: dict[str, int]

    @property
    def cpu_per_execution_s(self) -> float:
        return self.cpu_s / self.finished if self.finished else math.nan

    @property
    def verdicts(self) -> dict[str, bool]:
        return {
            f"p99 lag < {LAG_P99_TARGET_S:g} s": max(self.lags.p99, self.db.lags.p99)
            < LAG_P99_TARGET_S,
            "0 missed": self.db.missed == 0,
            f"peak RSS < {RSS_TARGET_MB:g} MB": self.rss_peak_mb < RSS_TARGET_MB,
        }

    @property
    def passed(self) -> bool:
        return all(self.verdicts.values())

    @property
    def sustained(self) -> bool:
        """The search's test: on time and nothing missed (RSS is reported beside it)."""
        lag, missed, _rss = self.verdicts.values()
        return lag and missed


class LagLog(deque[float]):
    """The scheduler's bounded lag deque that also keeps every lag with its wall time."""

    def __init__(self, maxlen: int | None, into: list[tuple[float, float]]) -> None:
        super().__init__(maxlen=maxlen)
        self.into = into

    def append(self, lag: float) -> None:
        self.into.append((time.time(), lag))
        super().append(lag)


# --- the config ----------------------------------------------------------------------------


def workflow_name(i: int) -> str:
    return f"wf-{i:05d}"


def config_yaml(plan: Plan, url: str, count: int) -> str:
    # watch off: the reload start rewrites the file and reloads once, by hand.
    head = (
        "version: 1\n"
        "defaults: {catch_up: none}\n"
        f"daemon: {{max_concurrency: {plan.max_concurrency}, watch: false}}\n"
        f"workflows:{'' if count else ' []'}\n"
    )
    one = (
        '  - name: {name}\n    schedule: "* * * * *"\n    jitter: {jitter:g}s\n'
        "    steps:\n      - name: get\n        type: http\n"
        f'        url: "{url}"\n        expect: {{{{status: 200}}}}\n'
    )
    body = (one.format(name=workflow_name(i), jitter=plan.jitter_s) for i in range(count))
    return head + "".join(body)


def offsets(plan: Plan) -> dict[str, float]:
    """Each workflow's jitter offset, as the scheduler computes it."""
    names = (workflow_name(i) for i in range(plan.workflows))
    return {n: jitter_offset(f"{n}@{LOCATION}", plan.jitter_s) for n in names}


# --- the run -------------------------------------------------------------------------------


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def thread_cpu_s(native_id: int) -> float:
    for thread in psutil.Process().threads():
        if thread.id == native_id:
            return float(thread.user_time + thread.system_time)
    return math.nan


def machine_busy_s() -> float:
    """CPU seconds every process on the machine has used so far (all cores)."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - times.iowait)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def sleep_until(deadline: float, scheduler: Scheduler, obs: Observation) -> None:
    """Sleep to `deadline`, sampling how many runs are in flight and waiting each second."""
    while (left := deadline - time.time()) > 0:
        await asyncio.sleep(min(left, 1.0))
        obs.max_in_flight = max(obs.max_in_flight, scheduler.in_flight)
        obs.max_backlog = max(obs.max_backlog, scheduler.backlog)


def first_minute(before: float, after: float) -> float:
    """The first slot of plans added at some moment in [before, after]: the minute after
    `before`, unless `after` is already past it (then which one is unsure: the next)."""
    minute = (before // 60 + 1) * 60
    return minute if minute > after else (after // 60 + 1) * 60


@dataclass(frozen=True)
class Subject:
    """What is measured: the whole daemon, or the scheduler alone."""

    scheduler: Callable[[], Scheduler | None]
    add_all: Callable[[], Awaitable[None]]  # the reload start: bring every workflow in


async def bring_in(subject: Subject, plan: Plan, obs: Observation) -> None:
    """Get the workflows planned; set when that took and the window."""
    if plan.start == "cold":
        # Loaded at start: the slots whose jittered start passed while it loaded run at
        # once. The window waits that burst out.
        obs.ready = time.time()
        obs.startup_cpu_s = time.process_time() - obs.startup_cpu_s
        start = obs.ready + SETTLE_S
    else:
        # Added to a running scheduler by a reload: plans start at their next slot, no burst.
        obs.began, cpu0 = time.time(), time.process_time()
        await subject.add_all()
        obs.ready, obs.startup_cpu_s = time.time(), time.process_time() - cpu0
        start = first_minute(obs.began, obs.ready)
    obs.window = (start, start + plan.minutes * 60)


def observer(subject: Subject, plan: Plan, obs: Observation) -> Service:
    """A service: keeps every lag, measures the window, then sets `stop`."""

    async def service(stop: asyncio.Event) -> None:
        scheduler = subject.scheduler()
        assert scheduler is not None
        # Started after the scheduler's loop but before any run reached its lag measurement.
        scheduler.stats.lags_s = LagLog(scheduler.stats.lags_s.maxlen, obs.lags)
        await bring_in(subject, plan, obs)
        await sleep_until(obs.window[0], scheduler, obs)
        loop_thread = threading.get_native_id()
        cpu0, loop0, busy0 = time.process_time(), thread_cpu_s(loop_thread), machine_busy_s()
        finished0 = scheduler.stats.finished
        obs.max_in_flight = obs.max_backlog = 0
        await sleep_until(obs.window[1], scheduler, obs)
        obs.cpu_s = time.process_time() - cpu0
        obs.loop_cpu_s = thread_cpu_s(loop_thread) - loop0
        obs.machine_cpu_s = machine_busy_s() - busy0
        obs.finished = scheduler.stats.finished - finished0
        obs.rss_end_mb = rss_mb()
        obs.load_avg_end = os.getloadavg()[0]
        await asyncio.sleep(TAIL_S)
        stop.set()

    return service


def write_configs(plan: Plan, root: Path, url: str) -> tuple[Path, str]:
    """The config file as the run starts (empty for the reload start) and the full text."""
    path = root / "wfmon.yaml"
    full = config_yaml(plan, url, plan.workflows)
    path.write_text(full if plan.start == "cold" else config_yaml(plan, url, 0))
    return path, full


async def run_daemon(
    plan: Plan, root: Path, db_url: str, url: str
) -> tuple[Observation, Scheduler]:
    """`Daemon(app).run()` with the observer as one of its services."""
    path, full = write_configs(plan, root, url)
    settings = Settings(config_path=path, data_dir=root, database_url=db_url)
    obs = Observation()
    async with build_app(settings) as app:
        daemon = Daemon(app)

        async def add_all() -> None:
            path.write_text(full)
            if not await daemon.reload():
                raise BenchError("the reload with all the workflows was refused")

        daemon.services.append(observer(Subject(lambda: daemon.scheduler, add_all), plan, obs))
        obs.began, obs.startup_cpu_s = time.time(), time.process_time()
        code = await run_until_stopped(daemon, obs)
    if code not in (0, None) or not obs.ready or daemon.scheduler is None:
        raise BenchError(f"the daemon exited with {code} before the window")
    return obs, daemon.scheduler


async def run_until_stopped(daemon: Daemon, obs: Observation) -> int | None:
    """Run the daemon; once stopped, give its shutdown SHUTDOWN_LIMIT_S, then cancel it."""
    running = asyncio.ensure_future(daemon.run())
    stopped = asyncio.ensure_future(daemon.stop.wait())
    await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    since = time.time()
    done, _ = await asyncio.wait({running}, timeout=SHUTDOWN_LIMIT_S)
    obs.shutdown_s, obs.shutdown_done = time.time() - since, bool(done)
    if done:
        return running.result()
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    return None


async def run_scheduler(
    plan: Plan, root: Path, db_url: str, url: str
) -> tuple[Observation, Scheduler]:
    """The scheduler alone, wired as `Daemon.run()` does it: no health checks, alerting,
    analytics or reports beside it."""
    path, full = write_configs(plan, root, url)
    settings = Settings(config_path=path, data_dir=root, database_url=db_url)
    obs = Observation()
    async with build_app(settings) as app:
        options = SchedulerOptions(max_concurrency=plan.max_concurrency)
        scheduler = Scheduler(
            engine=app.engine, executions=app.executions, clock=app.clock, options=options
        )

        async def add_all() -> None:  # as Daemon.reload()
            path.write_text(full)
            workflows, now = load_strict(path), app.clock.now()
            scheduler.set_workflows(workflows, now)
            await app.workflows.sync(workflows, now)

        obs.began, obs.startup_cpu_s = time.time(), time.process_time()
        workflows, now = load_strict(path), app.clock.now()  # as Daemon.run()
        await app.workflows.sync(workflows, now)
        await scheduler.load(workflows, now)
        tune_gc()
        stop = asyncio.Event()
        watch = asyncio.ensure_future(
            observer(Subject(lambda: scheduler, add_all), plan, obs)(stop)
        )
        loop = asyncio.ensure_future(scheduler.run_forever(stop))
        try:
            await watch
            await stop_scheduler(scheduler, obs)
        finally:
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
    return obs, scheduler


async def stop_scheduler(scheduler: Scheduler, obs: Observation) -> None:
    since = time.time()
    try:
        await asyncio.wait_for(scheduler.shutdown(), SHUTDOWN_LIMIT_S)
    except TimeoutError:
        obs.shutdown_done = False
    obs.shutdown_s = time.time() - since


# --- the figures ---------------------------------------------------------------------------


def in_window(window: tuple[float, float], intended: float) -> bool:
    return window[0] <= intended < window[1]


def expected_slots(window: tuple[float, float], offs: Iterable[float]) -> int:
    """Slots (whole minutes) whose start, slot + offset, falls in the window."""
    start, end = window
    return sum(math.ceil((end - o) / 60) - math.ceil((start - o) / 60) for o in offs)


async def slot_rows(db_url: str, window: tuple[float, float]) -> Sequence[SlotRow]:
    low = datetime.fromtimestamp(window[0], UTC) - timedelta(minutes=1)
    high = datetime.fromtimestamp(window[1], UTC)
    cols = executions.c
    query = sa.select(cols.workflow, cols.slot_at, cols.started_at, cols.status).where(
        cols.slot_at >= low, cols.slot_at < high
    )
    database = await open_database(db_url, upgrade=False)
    try:
        async with database.read() as conn:
            return (await conn.execute(query)).all()
    finally:
        await database.dispose()


async def account(db_url: str, plan: Plan, window: tuple[float, float]) -> Slots:
    offs = offsets(plan)
    statuses: Counter[str] = Counter()
    lags: list[float] = []
    for workflow, slot_at, started_at, status in await slot_rows(db_url, window):
        intended = slot_at.timestamp() + offs[workflow]
        if not in_window(window, intended):
            continue
        statuses[status] += 1
        if status in RAN:
            lags.append(started_at.timestamp() - intended)
    expected = expected_slots(window, offs.values())
    ran = sum(n for s, n in statuses.items() if s in RAN)
    return Slots(expected, dict(statuses), expected - ran, Lags.of(lags))


def split_lags(obs: Observation) -> tuple[Lags, Lags]:
    """(before the window: the start-up burst, in the window), by intended start."""
    before = [lag for at, lag in obs.lags if at - lag < obs.window[0]]
    inside = [lag for at, lag in obs.lags if in_window(obs.window, at - lag)]
    return Lags.of(before), Lags.of(inside)


def stats_of(scheduler: Scheduler) -> dict[str, int]:
    stats = scheduler.stats
    values = {f.name: getattr(stats, f.name) for f in fields(stats)}
    return {k: v for k, v in values.items() if isinstance(v, int)}


async def measure(plan: Plan, root: Path, db_url: str, url: str) -> Result:
    run = run_daemon if plan.driver == "daemon" else run_scheduler
    obs, scheduler = await run(plan, root, db_url, url)
    burst, lags = split_lags(obs)
    return Result(
        plan=plan,
        startup_s=obs.ready - obs.began,
        startup_cpu_s=obs.startup_cpu_s,
        burst=burst,
        lags=lags,
        db=await account(db_url, plan, obs.window),
        finished=obs.finished,
        cpu_s=obs.cpu_s,
        loop_cpu_s=obs.loop_cpu_s,
        rss_peak_mb=peak_rss_mb(),
        rss_end_mb=obs.rss_end_mb,
        load_avg_end=obs.load_avg_end,
        machine_cpu_s=obs.machine_cpu_s,
        max_in_flight=obs.max_in_flight,
        max_backlog=obs.max_backlog,
        shutdown_s=obs.shutdown_s,
        shutdown_done=obs.shutdown_done,
        stats=stats_of(scheduler),
    )


# --- databases -----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def database(kind: Db, root: Path, admin_url: str) -> AsyncIterator[str]:
    """A fresh database URL: a file in `root`, or a PostgreSQL database created and dropped."""
    if kind == "sqlite":
        yield f"sqlite:///{root}/wfmon.db"
        return
    name = f"wfmon_bench_scheduler_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def bench(plan: Plan, admin_url: str) -> Result:
    root = Path(tempfile.mkdtemp(prefix="wfmon-bench-scheduler-"))
    try:
        with running(lambda: start_nginx(root)) as (nginx, port):
            url = f"http://127.0.0.1:{port}{PATH}"
            await wait_ready(nginx, url, root / "nginx.out")
            async with database(plan.db, root, admin_url) as db_url:
                return await measure(plan, root, db_url, url)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- the report ----------------------------------------------------------------------------


def fmt_lags(lags: Lags) -> str:
    return (
        f"p50 {lags.p50:.3f}  p95 {lags.p95:.3f}  p99 {lags.p99:.3f}  max {lags.max:.3f} s"
        f"  ({lags.count:,} runs)"
    )


def revision() -> str:
    """The commit measured, and whether src/ had changes beyond it."""
    repo = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "src")
    return git("rev-parse", "--short", "HEAD") + (" with local changes in src/" if dirty else "")


def print_plan(info: dict[str, Any], plan: Plan) -> None:
    print(
        f"machine: {info['cpus']} CPUs ({info['cpu_model']}), Python {info['python']}, "
        f"aiohttp {info['aiohttp']}, loop {info['loop']}, nginx {info['nginx']}, "
        f"load average {info['load_avg_1m']} at the start; wfmon {revision()}"
    )
    what = "the daemon" if plan.driver == "daemon" else "the scheduler alone"
    begins = (
        f"{SETTLE_S:g} s after {what} started with them"
        if plan.start == "cold"
        else f"at their first slot after a reload added them to {what}, running"
    )
    print(
        f'plan: {plan.workflows:,} workflows on "* * * * *", jitter {plan.jitter_s:g}s, '
        f"catch_up none, max_concurrency {plan.max_concurrency}, {plan.db}; a "
        f"{plan.minutes:g}-minute window begins {begins}; stop {TAIL_S:g} s after it"
    )


def print_result(r: Result) -> None:
    per_s = r.finished / (r.plan.minutes * 60)
    how = "start" if r.plan.start == "cold" else "reload"
    print(f"{how}: {r.startup_s:.1f} s (CPU {r.startup_cpu_s:.1f} s) to load and plan")
    print(f"runs before the window (not counted): {fmt_lags(r.burst)}")
    print(f"executions finished in the window: {r.finished:,} ({per_s:.1f}/s)")
    print(f"lag, scheduler stats:      {fmt_lags(r.lags)}")
    print(f"lag, database cross-check: {fmt_lags(r.db.lags)}")
    statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(r.db.statuses.items()))
    print(f"slots: expected {r.db.expected:,}; rows: {statuses or 'none'}; missed {r.db.missed:,}")
    cpu_us = r.cpu_per_execution_s * 1e6
    print(
        f"CPU: {r.cpu_s:.1f} s in the window ({r.loop_cpu_s:.1f} s on the event loop's thread), "
        f"{cpu_us:.0f} µs per execution"
    )
    print(f"RSS: peak {r.rss_peak_mb:.0f} MB, at the window's end {r.rss_end_mb:.0f} MB")
    print(f"in flight at most {r.max_in_flight}, waiting for a place at most {r.max_backlog}")
    others = r.machine_cpu_s - r.cpu_s
    cores = os.cpu_count() or 1
    print(
        f"machine: {r.machine_cpu_s / (r.plan.minutes * 60):.2f} of {cores} cores busy in the "
        f"window, {others:.1f} CPU s of it not this process (nginx, the database, others); "
        f"load average {r.load_avg_end:.2f} at its end"
    )
    gave_up = "" if r.shutdown_done else ", not finished: given up and cancelled"
    print(f"shutdown: {r.shutdown_s:.1f} s from stop{gave_up}")
    print("scheduler stats: " + ", ".join(f"{k} {v:,}" for k, v in r.stats.items()))
    for target, ok in r.verdicts.items():
        print(f"  {target:<20} {'PASS' if ok else 'FAIL'}")


def as_json(r: Result) -> str:
    doc = asdict(r)
    doc["cpu_per_execution_s"] = r.cpu_per_execution_s
    doc["verdicts"] = r.verdicts
    doc["passed"] = r.passed
    doc["sustained"] = r.sustained
    return json.dumps(doc)


# --- the search ----------------------------------------------------------------------------


def run_child(plan: Plan, admin_url: str) -> dict[str, Any] | None:
    """One measurement in a fresh process (its peak RSS is its own); None if it failed."""
    cmd = [sys.executable, __file__, "--workflows", str(plan.workflows)]
    cmd += ["--minutes", str(plan.minutes), "--db", plan.db, "--pg-url", admin_url]
    cmd += ["--max-concurrency", str(plan.max_concurrency), "--start", plan.start]
    cmd += ["--driver", plan.driver, "--json"]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)  # stderr: ours
    if done.returncode != 0:
        print(f"{plan.workflows:,} workflows: the measurement failed (exit {done.returncode})")
        return None
    print(done.stdout.rsplit("\n{", 1)[0].strip(), flush=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def search_row(doc: dict[str, Any]) -> str:
    if "lags" not in doc:
        return f"{doc['plan']['workflows']:>9,}  the measurement failed: not sustained"
    lags, db = doc["lags"], doc["db"]
    return (
        f"{doc['plan']['workflows']:>9,} {doc['finished']:>10,} {lags['p50']:>8.3f} "
        f"{lags['p99']:>8.3f} {db['lags']['p99']:>9.3f} {lags['max']:>8.3f} {db['missed']:>7,} "
        f"{doc['cpu_per_execution_s'] * 1e6:>9.0f} {doc['rss_peak_mb']:>8.0f} "
        f"{'yes' if doc['sustained'] else 'no':>9}"
    )


def search(plan: Plan, admin_url: str, counts: Sequence[int], refine: int) -> None:
    """Raise the count until p99 lag or missed slots fail, then halve the gap `refine` times."""
    rows: list[dict[str, Any]] = []

    def sustained(count: int) -> bool:
        doc = run_child(replace(plan, workflows=count), admin_url)
        rows.append(doc or {"plan": {"workflows": count}, "sustained": False})
        return bool(rows[-1]["sustained"])

    good, bad = 0, 0
    for count in counts:
        if not sustained(count):
            bad = count
            break
        good = count
    for _ in range(refine if bad else 0):
        count = (good + bad) // 2000 * 1000  # the midpoint, to a thousand
        if count in (good, bad):
            break
        good, bad = (count, bad) if sustained(count) else (good, count)
    print(f"\nsearch, {plan.minutes:g}-minute windows, {plan.db}:")
    print(
        f"{'workflows':>9} {'finished':>10} {'p50 s':>8} {'p99 s':>8} {'db p99 s':>9} "
        f"{'max s':>8} {'missed':>7} {'CPU µs':>9} {'RSS MB':>8} {'sustained':>9}"
    )
    for doc in sorted(rows, key=lambda d: int(d["plan"]["workflows"])):
        print(search_row(doc))
    print(f"largest count sustained: {good:,}" + (f" (failed at {bad:,})" if bad else ""))


# --- main ----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workflows", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=5.0, help="the measured window")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--max-concurrency", type=int, default=MAX_CONCURRENCY)
    parser.add_argument(
        "--driver",
        choices=("daemon", "scheduler"),
        default="daemon",
        help="run the whole daemon (default), or the scheduler alone",
    )
    parser.add_argument(
        "--start",
        choices=("reload", "cold"),
        default="reload",
        help="workflows added to a running daemon by a reload (default), or loaded at its start",
    )
    parser.add_argument("--quick", action="store_true", help="1,000 workflows for 1 minute")
    parser.add_argument("--search", action="store_true", help="raise the count until a fail")
    parser.add_argument("--refine", type=int, default=2, help="search: halvings after a fail")
    parser.add_argument(
        "--counts",
        type=lambda text: [int(n) for n in text.split(",")],
        default=list(SEARCH_COUNTS),
        help="search: the counts to try in turn, e.g. 10000,15000,20000",
    )
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="to create and drop the db")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    plan = Plan(
        args.workflows,
        args.minutes,
        args.db,
        args.max_concurrency,
        start=args.start,
        driver=args.driver,
    )
    if args.quick:
        plan = replace(plan, workflows=1_000, minutes=1.0)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    print_plan(machine(f"uvloop {importlib.metadata.version('uvloop')}"), plan)
    if args.search:
        search(plan, args.pg_url, args.counts, args.refine)
        return
    result = uvloop.run(bench(plan, args.pg_url))
    print_result(result)
    if args.json:
        print(as_json(result))


if __name__ == "__main__":
    main()
