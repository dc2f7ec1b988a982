"""`wfmon demo`: the shop, the daemon and the dashboard in one process, schedules sped up.

Each journey's cron schedule becomes an interval `speed` times shorter (by default a minute
counts as an hour: `*/15` runs every 15 s, `0 */4` every 4 min), so all six journeys run
within seconds while the clock, the timestamps and the dashboard stay real.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from wfmon.api.auth import passwords
from wfmon.api.settings import ApiSettings
from wfmon.api.wiring import attach
from wfmon.app import App, build_app
from wfmon.daemon import Daemon
from wfmon.demo.server import running_shop
from wfmon.demo.state import DEFAULT_ADMIN_TOKEN
from wfmon.domain.run import ExecutionResult
from wfmon.domain.workflow import Schedule
from wfmon.events import Event, Subscriber
from wfmon.scheduler.cron import slots_between
from wfmon.settings import Settings
from wfmon.storage.accounts import UserRepository

ADMIN_TOKEN = DEFAULT_ADMIN_TOKEN  # a demo: known to whoever reads the banner


_CRON = re.compile(r'schedule: "([^"]+)"')


def demo_config(port: int, speed: float = 1.0) -> str:
    """The packaged Farmers Market workflows, pointed at the shop's port; with `speed` > 1
    each cron schedule becomes an interval that many times shorter than its period."""
    text = resources.files("wfmon.demo").joinpath("farmers-market.yaml").read_text("utf-8")
    text = text.replace("127.0.0.1:8900", f"127.0.0.1:{port}").replace(
        "port: 8900", f"port: {port}"
    )
    if speed <= 1:
        return text

    def faster(match: re.Match[str]) -> str:
        cron = match.group(1)
        every = max(1.0, cron_period_s(cron) / speed)
        return f'schedule: {{every: {every:g}s}}  # "{cron}" outside the demo'

    text = _CRON.sub(faster, text)
    # Self health checks (and so `wfmon status`) at the same pace as the journeys.
    return text.replace("daemon:\n", f"daemon:\n  health_interval: {max(5.0, 300 / speed):g}s\n", 1)


def cron_period_s(cron: str) -> float:
    """The usual gap between two runs of a cron schedule (the shortest of a day's gaps)."""
    schedule = Schedule(cron=cron)
    start = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday: any ordinary day
    slots = slots_between(schedule, start, start + timedelta(days=1), limit=2000)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(slots)]
    return min(gaps) if gaps else 86400.0


def fresh_data_dir(data_dir: Path, port: int, speed: float) -> Settings:
    """Each demo starts from an empty database and the packaged journeys."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = data_dir / "wfmon.db"
    for path in (db, db.with_name("wfmon.db-wal"), db.with_name("wfmon.db-shm")):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    config = data_dir / "wfmon.yaml"
    config.write_text(demo_config(port, speed), encoding="utf-8")
    return Settings(config_path=config, data_dir=data_dir, database_url=f"sqlite:///{db}")


def banner(
    base_url: str, settings: Settings, speed: float, dashboard: str, password: str
) -> list[str]:
    faults = f"{base_url}/admin/faults"
    curl = f"curl -X PUT -H 'X-Admin-Token: {ADMIN_TOKEN}' -H 'Content-Type: application/json'"
    db_env = f"WFMON_DATABASE_URL={settings.database_url}"
    return [
        f"[bold]wfmon demo[/bold]: the Farmers Market shop at {base_url}, six journeys monitored.",
        f"Schedules run {speed:g}x faster: a */15 journey runs every {15 * 60 / speed:g} s.",
        f"Config: {settings.config_path} (edit it: it reloads); data: {settings.data_dir}/",
        "",
        f"[bold]Dashboard[/bold]: {dashboard}  (log in as admin, password {password})",
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
    *,
    data_dir: Path,
    port: int,
    speed: float,
    console: Console,
    duration_s: float | None,
    api_port: int = 8080,
) -> int:
    async with running_shop(port=port, latency_scale=1.0, admin_token=ADMIN_TOKEN) as shop:
        settings = fresh_data_dir(data_dir, shop.port, speed)
        async with build_app(settings) as app:
            daemon = Daemon(app, instance="demo")
            attach(daemon, settings=ApiSettings(host="127.0.0.1", port=api_port))
            password = await _demo_admin(app)
            daemon.bus.subscribe(printer(console), "execution.finished")
            if duration_s is not None:
                daemon.services.append(_stop_after(duration_s, daemon))
            dashboard = f"http://127.0.0.1:{api_port}/" if api_port else "on a free port"
            for line in banner(shop.base_url, settings, speed, dashboard, password):
                console.print(line, soft_wrap=True)  # long commands stay copy-pastable
            return await daemon.run()


async def _demo_admin(app: App) -> str:
    """A fresh demo database gets an `admin` with a new random password, shown in the
    banner (the same account `wfmon run` creates on a first start)."""
    password = passwords.generate_password()
    hashed = await passwords.hash_async(password)
    await UserRepository(app.db).add("admin", hashed, "admin", app.clock.now())
    return password


def _stop_after(
    seconds: float, daemon: Daemon
) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    async def service(stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        daemon.stop.set()

    return service
