"""Run-engine throughput and CPU cost, beside a bare aiohttp loop and the blackbox exporter.

The target is nginx (Debian's, started here on a free loopback port) serving a small JSON
file. One workflow with one http step (status 200, `$.status == ok`) runs at a fixed
concurrency; the same requests are made by a bare aiohttp loop (GET, check the status,
parse the JSON, check the field) in the same run. Both go once with a new connection per
execution (the engine's default) and once with keep-alive (`HttpClientFactory(shared=True)`).
CPU is this process's CPU time (all its threads, so SQLite's writer thread is counted);
nginx and the exporter are other processes and are not.

    .venv/bin/python bench/engine.py            # the full run, about two minutes
    .venv/bin/python bench/engine.py --quick    # a smoke run of a few hundred executions
    .venv/bin/python bench/engine.py --json     # figures as JSON too
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import psutil

from wfmon.clock import SystemClock
from wfmon.config.loader import load_strict
from wfmon.domain.run import ExecutionResult, ExecutionStatus
from wfmon.domain.workflow import Workflow
from wfmon.httpclient import HttpClientFactory
from wfmon.runner.engine import Engine
from wfmon.runtime import tune_gc
from wfmon.storage import BatchRecorder, ExecutionRepository, open_database

# Run as a script, bench/ is on sys.path; mypy, run from the repository root, names the
# module bench._target.
if TYPE_CHECKING:
    from bench._target import (
        PATH,
        BenchError,
        free_port,
        machine,
        running,
        spawn,
        start_nginx,
        wait_ready,
    )
else:
    from _target import (
        PATH,
        BenchError,
        free_port,
        machine,
        running,
        spawn,
        start_nginx,
        wait_ready,
    )

BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"
THROUGHPUT_TARGET = 0.7  # engine / bare executions per second, recording on
BLACKBOX_REFERENCE_US = 600.0  # the exporter's CPU per probe, measured before

WORKFLOW_YAML = """\
workflows:
  - name: bench-health
    schedule: {every: 1m}
    steps:
      - name: health
        type: http
        url: "%s"
        expect:
          status: 200
          json: {"$.status": ok}
"""

BLACKBOX_YAML = """\
modules:
  http_json:
    prober: http
    timeout: 5s
    http:
      method: GET
      preferred_ip_protocol: ip4
      valid_status_codes: [200]
      fail_if_body_not_matches_regexp:
        - '"status"\\s*:\\s*"ok"'
"""


@dataclass(frozen=True)
class Plan:
    concurrency: int
    executions: int  # per measurement
    warmup: int  # per mode, once, before the measured rounds
    repeats: int  # measurements per mode; the median is reported
    probes: int  # per blackbox measurement


FULL = Plan(concurrency=32, executions=5000, warmup=300, repeats=5, probes=2000)
QUICK = Plan(concurrency=32, executions=300, warmup=50, repeats=1, probes=200)


@dataclass(frozen=True)
class Measurement:
    """One timed batch: how many, how long, and the CPU time spent by the process measured."""

    executions: int
    wall_s: float
    cpu_s: float
    client_cpu_s: float  # this process's CPU: the same as cpu_s unless another is measured

    @property
    def per_s(self) -> float:
        return self.executions / self.wall_s

    @property
    def cpu_us(self) -> float:
        return self.cpu_s / self.executions * 1e6

    @property
    def client_cpu_us(self) -> float:
        return self.client_cpu_s / self.executions * 1e6


@dataclass
class Figure:
    """The repeated measurements of one mode and their medians."""

    key: str
    label: str
    runs: list[Measurement] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return statistics.median(m.per_s for m in self.runs)

    @property
    def cpu_us(self) -> float:
        return statistics.median(m.cpu_us for m in self.runs)

    @property
    def client_cpu_us(self) -> float:
        return statistics.median(m.client_cpu_us for m in self.runs)


One = Callable[[int], Awaitable[None]]


# --- processes ---------------------------------------------------------------------------


def start_blackbox(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = root / "blackbox.yml"
    conf.write_text(BLACKBOX_YAML)
    cmd = [BLACKBOX, f"--config.file={conf}", f"--web.listen-address=127.0.0.1:{port}"]
    return spawn(cmd, root / "blackbox.out"), port


# --- the timed loop ----------------------------------------------------------------------


async def drive(
    count: int,
    concurrency: int,
    one: One,
    finish: Callable[[], Awaitable[None]] | None = None,
    cpu: Callable[[], float] = time.process_time,
) -> Measurement:
    """Run `one(i)` for i in range(count) on `concurrency` workers; time it all."""
    indices = iter(range(count))  # shared: each worker takes the next index

    async def worker() -> None:
        for i in indices:
            await one(i)

    cpu0, client0, t0 = cpu(), time.process_time(), time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    if finish is not None:
        await finish()
    wall = time.perf_counter() - t0
    client = time.process_time() - client0
    return Measurement(count, wall, cpu() - cpu0, client)


# --- the bare aiohttp loop ---------------------------------------------------------------


async def bare_get(session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(url) as resp:
        if resp.status != 200:
            raise BenchError(f"bare GET: status {resp.status}")
        data = await resp.json()
        if data.get("status") != "ok":
            raise BenchError(f"bare GET: $.status is {data.get('status')!r}")


def bare_new_connection(url: str) -> One:
    async def one(_i: int) -> None:
        # A session (and so a connector and a connection) per request, as the engine does.
        async with aiohttp.ClientSession() as session:
            await bare_get(session, url)

    return one


def bare_keepalive(session: aiohttp.ClientSession, url: str) -> One:
    async def one(_i: int) -> None:
        await bare_get(session, url)

    return one


# --- the engine --------------------------------------------------------------------------


class Slots:
    """Unique slot times: a recorded execution's (workflow, location, slot_at) is unique."""

    def __init__(self) -> None:
        self._base = datetime(2026, 1, 1, tzinfo=UTC)
        self._next = 0

    def take(self) -> datetime:
        self._next += 1
        return self._base + timedelta(seconds=self._next)


@dataclass
class Recording:
    """The storage side: the recorder, and every future it handed out."""

    recorder: BatchRecorder
    futures: list[asyncio.Future[int | None]] = field(default_factory=list)
    submitted: int = 0

    def submit(self, result: ExecutionResult) -> None:
        # submit(), not `await record()`: a worker that waits up to max_delay_s for its
        # batch measures the batching delay, not the engine (32 workers / 50 ms: about
        # 500 executions/s here). The futures are awaited inside the timed window.
        self.futures.append(self.recorder.submit(result))
        self.submitted += 1

    async def drain(self) -> None:
        ids = await asyncio.gather(*self.futures)
        self.futures.clear()
        if any(i is None for i in ids):
            raise BenchError("a result was not recorded (its slot already existed)")


def check(result: ExecutionResult) -> None:
    if result.status is not ExecutionStatus.SUCCEEDED:
        step = result.steps[0] if result.steps else None
        why = result.error or (step.error if step else None) or (step and step.assertions)
        raise BenchError(f"engine: {result.status.value}: {why}")


def engine_one(
    engine: Engine, workflow: Workflow, slots: Slots, recording: Recording | None
) -> One:
    async def one(_i: int) -> None:
        result = await engine.run(workflow, slot_at=slots.take(), trigger="manual")
        check(result)
        if recording is not None:
            recording.submit(result)

    return one


def load_workflow(root: Path, url: str) -> Workflow:
    path = root / "workflow.yaml"
    path.write_text(WORKFLOW_YAML % url)
    [workflow] = load_strict(path)
    return workflow


@contextlib.asynccontextmanager
async def recording_to(root: Path) -> AsyncIterator[Recording]:
    database = await open_database(f"sqlite:///{root}/wfmon.db")
    recorder = BatchRecorder(ExecutionRepository(database))  # the product's defaults
    await recorder.start()
    try:
        yield Recording(recorder)
    finally:
        await recorder.aclose()
        await database.dispose()


# --- the modes ---------------------------------------------------------------------------


@dataclass
class Bench:
    plan: Plan
    url: str
    workflow: Workflow
    recording: Recording
    slots: Slots = field(default_factory=Slots)

    async def measure(self, key: str, count: int) -> Measurement:
        """One measurement of a mode: `new-*` and `keep-*`, `bare` or `engine[-rec]`."""
        conc = self.plan.concurrency
        keepalive = key.startswith("keep")
        if key.endswith("bare"):
            if not keepalive:
                return await drive(count, conc, bare_new_connection(self.url))
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
                return await drive(count, conc, bare_keepalive(s, self.url))
        http = HttpClientFactory(SystemClock(), shared=keepalive)
        engine = Engine(http=http, clock=SystemClock())
        rec = self.recording if key.endswith("rec") else None
        try:
            one = engine_one(engine, self.workflow, self.slots, rec)
            return await drive(count, conc, one, rec.drain if rec else None)
        finally:
            await http.aclose()


MODES = {
    "new-bare": "bare aiohttp",
    "new-engine": "engine, recording off",
    "new-engine-rec": "engine, recording on (SQLite)",
    "keep-bare": "bare aiohttp",
    "keep-engine": "engine, recording off",
    "keep-engine-rec": "engine, recording on (SQLite)",
}


async def run_modes(bench: Bench) -> dict[str, Figure]:
    figures = {key: Figure(key, label) for key, label in MODES.items()}
    for key in MODES:
        await bench.measure(key, bench.plan.warmup)
    # Rounds interleave the modes, so a slow spell of the machine hits all of them alike.
    for round_no in range(bench.plan.repeats):
        for key in MODES:
            figures[key].runs.append(await bench.measure(key, bench.plan.executions))
        print(f"  round {round_no + 1}/{bench.plan.repeats} done", file=sys.stderr)
    return figures


async def run_blackbox(root: Path, target: str, plan: Plan) -> Figure:
    figure = Figure("blackbox", "blackbox exporter (its process)")
    with running(lambda: start_blackbox(root)) as (process, port):
        base = f"http://127.0.0.1:{port}"
        await wait_ready(process, f"{base}/-/healthy", root / "blackbox.out")
        exporter = psutil.Process(process.pid)

        def exporter_cpu() -> float:
            times = exporter.cpu_times()
            return float(times.user + times.system)

        url = f"{base}/probe?target={target}&module=http_json"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            one = probe_one(s, url)
            await drive(plan.warmup, plan.concurrency, one)
            for _ in range(plan.repeats):
                m = await drive(plan.probes, plan.concurrency, one, cpu=exporter_cpu)
                figure.runs.append(m)
    return figure


def probe_one(session: aiohttp.ClientSession, url: str) -> One:
    async def one(_i: int) -> None:
        async with session.get(url) as resp:
            text = await resp.text()
        if resp.status != 200 or "\nprobe_success 1\n" not in text:
            raise BenchError(f"blackbox probe failed: {resp.status} {text[-300:]!r}")

    return one


# --- report ------------------------------------------------------------------------------


def ratios(figures: dict[str, Figure]) -> dict[str, dict[str, float]]:
    out = {}
    for conn in ("new", "keep"):
        bare = figures[f"{conn}-bare"]
        for kind in ("engine", "engine-rec"):
            mine = figures[f"{conn}-{kind}"]
            out[f"{conn}-{kind}"] = {
                "throughput": round(mine.per_s / bare.per_s, 3),
                "cpu": round(mine.cpu_us / bare.cpu_us, 3),
            }
    return out


def print_report(
    info: dict[str, Any], plan: Plan, figures: dict[str, Figure], box: Figure | None
) -> None:
    print(
        f"machine: {info['cpus']} CPUs ({info['cpu_model']}), Python {info['python']}, "
        f"aiohttp {info['aiohttp']}, loop {info['loop']}, nginx {info['nginx']}, "
        f"load average {info['load_avg_1m']} at the start"
    )
    print(
        f"plan: concurrency {plan.concurrency}, {plan.executions} executions per measurement "
        f"after {plan.warmup} warm-up, median of {plan.repeats}"
    )
    print(f"\n{'connection':<14}{'client':<32}{'exec/s':>9}{'CPU µs/exec':>13}")
    for key, fig in figures.items():
        conn = "new per exec" if key.startswith("new") else "keep-alive"
        print(f"{conn:<14}{fig.label:<32}{fig.per_s:>9.0f}{fig.cpu_us:>13.0f}")
    print("\nengine / bare:")
    for key, r in ratios(figures).items():
        target = f"  (target ≥ {THROUGHPUT_TARGET})" if key.endswith("rec") else ""
        verdict = ("  ok" if r["throughput"] >= THROUGHPUT_TARGET else "  BELOW") if target else ""
        print(
            f"  {key:<17} throughput {r['throughput']:.2f}{target}{verdict}   CPU {r['cpu']:.2f}x"
        )
    if box is not None:
        ours = figures["new-engine-rec"].cpu_us
        print(
            f"\nblackbox exporter: {plan.probes} probes x {plan.repeats}, concurrency "
            f"{plan.concurrency}: {box.per_s:.0f} probes/s, exporter CPU {box.cpu_us:.0f} µs/probe "
            f"(reference ~{BLACKBOX_REFERENCE_US:.0f}); our client's own CPU, not included: "
            f"{box.client_cpu_us:.0f} µs/probe"
        )
        verdict = "ok" if ours < box.cpu_us else "ABOVE"
        print(
            f"  engine (new connection, recording on) {ours:.0f} µs/exec vs exporter "
            f"{box.cpu_us:.0f} µs/probe: {ours / box.cpu_us:.2f}x  {verdict}"
        )


def as_json(
    info: dict[str, Any], plan: Plan, figures: dict[str, Figure], box: Figure | None, rows: int
) -> str:
    def fig(f: Figure) -> dict[str, Any]:
        return {
            "label": f.label,
            "per_s": round(f.per_s, 1),
            "cpu_us": round(f.cpu_us, 1),
            "runs": [asdict(m) for m in f.runs],
        }

    doc: dict[str, Any] = {
        "machine": info,
        "plan": asdict(plan),
        "figures": {key: fig(f) for key, f in figures.items()},
        "ratios": ratios(figures),
        "recorded_rows": rows,
    }
    if box is not None:
        doc["blackbox"] = {**fig(box), "client_cpu_us": round(box.client_cpu_us, 1)}
    return json.dumps(doc, indent=2)


# --- main --------------------------------------------------------------------------------


async def bench_all(plan: Plan, loop_name: str, want_json: bool, blackbox: bool) -> None:
    info = machine(loop_name)
    root = Path(tempfile.mkdtemp(prefix="wfmon-bench-"))
    try:
        with running(lambda: start_nginx(root)) as (nginx, port):
            url = f"http://127.0.0.1:{port}{PATH}"
            await wait_ready(nginx, url, root / "nginx.out")
            async with recording_to(root) as rec:
                bench = Bench(plan, url, load_workflow(root, url), rec)
                # As `wfmon run` does after start-up; process-wide, so the bare loop gets it too.
                tune_gc()
                figures = await run_modes(bench)
                box = await run_blackbox(root, url, plan) if blackbox else None
            rows = await count_rows(root)
        if rows != rec.submitted:
            raise BenchError(f"{rows} rows recorded for {rec.submitted} executions")
        print_report(info, plan, figures, box)
        print(f"\nrecorded: {rows} executions in SQLite, equal to the executions run with it")
        if want_json:
            print(as_json(info, plan, figures, box, rows))
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def count_rows(root: Path) -> int:
    database = await open_database(f"sqlite:///{root}/wfmon.db", upgrade=False)
    try:
        return await ExecutionRepository(database).count()
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    blackbox = Path(BLACKBOX).exists()
    if not blackbox:
        print(f"{BLACKBOX} not installed: the exporter comparison is skipped", file=sys.stderr)
    try:
        import uvloop
    except ImportError:
        asyncio.run(bench_all(plan, "asyncio", args.json, blackbox))
    else:
        loop_name = f"uvloop {importlib.metadata.version('uvloop')}"
        uvloop.run(bench_all(plan, loop_name, args.json, blackbox))


if __name__ == "__main__":
    main()
