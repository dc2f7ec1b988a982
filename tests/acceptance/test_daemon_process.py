"""`wfmon run` as a real process: kill -9, SIGTERM, reload, a hung target.

Each test waits on conditions in the database (polled, with a deadline), never on a fixed
sleep, and states its pass criterion.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from support import Lab
from wfmon.storage import Database, ExecutionRepository, ExecutionSummary, open_database

STEPS = """
import asyncio

async def ok(api):
    return {"ok": True}

async def hang(api):
    await asyncio.Event().wait()
"""


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Env:
    dir: Path
    config: Path
    db_url: str
    db: Database

    def start(self, instance: str = "test") -> Daemon:
        log = self.dir / f"daemon-{instance}-{len(list(self.dir.glob('daemon-*')))}.log"
        env = {
            **os.environ,
            "WFMON_DATABASE_URL": self.db_url,
            "WFMON_DATA_DIR": str(self.dir / "data"),
            "WFMON_INSTANCE": instance,
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wfmon",
                "run",
                "-c",
                str(self.config),
                "--log-format",
                "json",
                "--no-api",
            ],
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.dir,
        )
        return Daemon(process, log)

    async def rows(self, workflow: str | None = None) -> list[ExecutionSummary]:
        return await ExecutionRepository(self.db).list(workflow=workflow, limit=10_000)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    (tmp_path / "daemon_steps.py").write_text(STEPS)
    url = f"sqlite:///{tmp_path / 'wfmon.db'}"
    db = await open_database(url)
    yield Env(tmp_path, tmp_path / "wfmon.yaml", url, db)
    await db.dispose()


def workflows(*items: str, daemon: str = "") -> str:
    return (daemon + "\n" if daemon else "") + "workflows:\n" + "".join(items)


def python_workflow(name: str, fn: str, every: str = "1s", extra: str = "") -> str:
    return (
        f"  - name: {name}\n    schedule: {{every: {every}}}\n{extra}"
        f"    steps: [{{name: s, type: python, function: 'daemon_steps:{fn}', timeout: 60s}}]\n"
    )


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    """Poll a condition on another process's database until it holds (or fail at the
    deadline): there is no in-process event to wait on."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110  # the condition lives in another process
            await asyncio.sleep(0.05)


def stop(daemon: Daemon, sig: int = signal.SIGTERM) -> int:
    if daemon.process.poll() is None:
        daemon.process.send_signal(sig)
    return daemon.process.wait(timeout=30)


async def test_kill_9_mid_run_then_restart(env: Env) -> None:
    """Pass: the interrupted run is `aborted`, the next slots run on time, no slot twice."""
    env.config.write_text(
        workflows(python_workflow("hang", "hang", "1h"), python_workflow("tick", "ok", "1s"))
    )
    first = env.start()
    try:

        async def hanging() -> bool:
            return any(r.status == "running" for r in await env.rows("hang"))

        await eventually(hanging)
        first.process.kill()  # SIGKILL: nothing gets to clean up
        first.process.wait(timeout=10)
        assert [r.status for r in await env.rows("hang")] == ["running"]
        killed_at = datetime.now(UTC)
        second = env.start()

        async def recovered() -> bool:
            hang = [r.status for r in await env.rows("hang")]
            on_time = [
                r
                for r in await env.rows("tick")
                if r.trigger == "schedule" and r.status == "succeeded" and r.slot_at > killed_at
            ]
            return hang == ["aborted"] and len(on_time) >= 3

        await eventually(recovered)
        assert stop(second) == 0
    finally:
        if first.process.poll() is None:
            first.process.kill()
    hang = (await env.rows("hang"))[0]
    assert hang.error is not None
    assert "recovered on start" in hang.error
    ticks = await env.rows("tick")
    assert len({r.slot_at for r in ticks}) == len(ticks)  # no duplicates
    late = [
        (r.started_at - r.slot_at).total_seconds()
        for r in ticks
        if r.trigger == "schedule" and r.started_at > hang.finished_at  # type: ignore[operator]
    ]
    assert late
    assert max(late) < 1.0  # after the restart every tick started within a second of its slot


async def test_sigterm_gives_the_grace_period_then_cancels(env: Env) -> None:
    """Pass: exit code 0; the run still in flight after the grace period is `cancelled`."""
    env.config.write_text(
        workflows(python_workflow("hang", "hang", "1h"), daemon="daemon: {grace: 1s}")
    )
    daemon = env.start()

    async def hanging() -> bool:
        return any(r.status == "running" for r in await env.rows("hang"))

    await eventually(hanging)
    assert stop(daemon, signal.SIGTERM) == 0
    [row] = await env.rows("hang")
    assert row.status == "cancelled"
    assert "stopped before this run finished" in (row.error or "")
    assert b"daemon.stopped" in daemon.log.read_bytes()


async def test_invalid_config_on_reload_keeps_the_last_good_one(env: Env) -> None:
    """Pass: after a broken edit the old workflow keeps running and the log names the
    problem's line; a later valid edit applies without a restart."""
    env.config.write_text(workflows(python_workflow("a", "ok")))
    daemon = env.start()
    try:

        async def runs(name: str, n: int) -> bool:
            return len(await env.rows(name)) >= n

        await eventually(lambda: runs("a", 2))
        env.config.write_text(workflows(python_workflow("a", "ok").replace("steps:", "stepz:")))
        daemon.process.send_signal(signal.SIGHUP)

        async def refused() -> bool:
            return b"reload refused" in daemon.log.read_bytes()

        await eventually(refused)
        assert b"wfmon.yaml:4:5: workflows[0].stepz: unknown key 'stepz'" in daemon.log.read_bytes()
        count = len(await env.rows("a"))
        await eventually(lambda: runs("a", count + 2))  # the last good config still runs
        env.config.write_text(workflows(python_workflow("b", "ok")))
        daemon.process.send_signal(signal.SIGHUP)
        await eventually(lambda: runs("b", 2))
        after = len(await env.rows("a"))
        await eventually(lambda: runs("b", 4))
        assert len(await env.rows("a")) == after  # `a` was removed by the valid reload
    finally:
        assert stop(daemon) == 0


async def test_a_hung_target_does_not_delay_other_workflows(env: Env, lab: Lab) -> None:
    """Pass: while `slow` hangs on its target until its 3 s timeout, every `fast` run starts
    within half a second of its slot."""
    env.config.write_text(
        workflows(
            f"  - name: slow\n    schedule: {{every: 1s}}\n"
            f"    steps: [{{name: s, type: http, url: '{lab.base_url}/hang', timeout: 3s}}]\n",
            python_workflow("fast", "ok", "1s"),
        )
    )
    daemon = env.start()
    try:

        async def timed_out() -> bool:
            return any(r.status == "timeout" for r in await env.rows("slow"))

        await eventually(timed_out)
    finally:
        assert stop(daemon) == 0
    fast = [r for r in await env.rows("fast") if r.status == "succeeded"]
    assert len(fast) >= 3
    lags = [(r.started_at - r.slot_at).total_seconds() for r in fast if r.trigger == "schedule"]
    assert max(lags) < 0.5
    slow = await env.rows("slow")
    assert "missed" in {r.status for r in slow}  # its own overlapping slots, recorded
