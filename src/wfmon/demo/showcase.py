"""`wfmon demo`: the shop and the daemon in one process, on a clock that runs fast.

A minute of real time counts as an hour of schedule time by default, so the six journeys
(every 5 minutes to every 4 hours) all run within seconds. Durations stay real.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from wfmon.app import build_app
from wfmon.clock import ScaledClock
from wfmon.daemon import Daemon
from wfmon.demo.server import running_shop
from wfmon.demo.state import DEFAULT_ADMIN_TOKEN
from wfmon.domain.run import ExecutionResult
from wfmon.events import Event, Subscriber
from wfmon.settings import Settings

ADMIN_TOKEN = DEFAULT_ADMIN_TOKEN  # a demo: known to whoever reads the banner


def demo_config(port: int) -> str:
    """The packaged Farmers Market workflows, pointed at the shop's port."""
    text = resources.files("wfmon.demo").joinpath("farmers-market.yaml").read_text("utf-8")
    return text.replace("127.0.0.1:8900", f"127.0.0.1:{port}").replace(
        "port: 8900", f"port: {port}"
    )


def fresh_data_dir(data_dir: Path, port: int) -> Settings:
    """Each demo starts from an empty database: its fast clock would otherwise meet slots
    recorded in a previous demo's (future) schedule time."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = data_dir / "wfmon.db"
    for path in (db, db.with_name("wfmon.db-wal"), db.with_name("wfmon.db-shm")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    config = data_dir / "wfmon.yaml"
    config.write_text(demo_config(port), encoding="utf-8")
    return Settings(config_path=config, data_dir=data_dir, database_url=f"sqlite:///{db}")


def banner(base_url: str, settings: Settings, speed: float) -> list[str]:
    faults = f"{base_url}/admin/faults"
    curl = f"curl -X PUT -H 'X-Admin-Token: {ADMIN_TOKEN}' -H 'Content-Type: application/json'"
    db_env = f"WFMON_DATABASE_URL={settings.database_url}"
    return [
        f"[bold]wfmon demo[/bold]: the Farmers Market shop at {base_url}, six journeys monitored.",
        f"Schedule time runs {speed:g}x: a */15 journey runs every {15 * 60 / speed:g} s.",
        f"Config: {settings.config_path} (edit it: it reloads); data: {settings.data_dir}/",
        "",
        "Try, in another terminal:",
        f'  break login    {curl} -d \'{{"down": ["login"]}}\' {faults}',
        f"  slow it down   {curl} -d '{{\"latency_ms\": 1500}}' {faults}",
        f'  bad deploy     {curl} -d \'{{"bad_deploy_at": "now"}}\' {faults}',
        f"  fix it         curl -X DELETE -H 'X-Admin-Token: {ADMIN_TOKEN}' {faults}",
        f"  what ran       {db_env} wfmon executions",
        f"  health         {db_env} wfmon status",
        "",
        "Ctrl-C stops.",
    ]


def printer(console: Console) -> Subscriber:
    async def show(event: Event) -> None:
        result = event.payload
        if not isinstance(result, ExecutionResult):
            return
        line = Text(f"{result.slot_at:%H:%M} ", style="dim")
        ok = result.status.is_ok
        line.append("✓ " if ok else "✗ ", style="green" if ok else "red")
        line.append(f"{result.workflow:<18}")
        line.append(f"{result.status.value:<10}", style="green" if ok else "red")
        line.append(f"{result.duration_ms:7.0f} ms")
        if not ok and result.reason:
            line.append(f"  {result.reason}", style="red")
        console.print(line)

    return show


async def run_demo(
    *, data_dir: Path, port: int, speed: float, console: Console, duration_s: float | None
) -> int:
    async with running_shop(port=port, latency_scale=1.0, admin_token=ADMIN_TOKEN) as shop:
        settings = fresh_data_dir(data_dir, shop.port)
        async with build_app(settings, clock=ScaledClock(speed)) as app:
            daemon = Daemon(app, instance="demo")
            daemon.bus.subscribe(printer(console), "execution.finished")
            if duration_s is not None:
                daemon.services.append(_stop_after(duration_s, daemon))
            for line in banner(shop.base_url, settings, speed):
                console.print(line, soft_wrap=True)  # long commands stay copy-pastable
            return await daemon.run()


def _stop_after(
    seconds: float, daemon: Daemon
) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    async def service(stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        daemon.stop.set()

    return service
