"""`wfmon demo-target`: run the Farmers Market shop in the foreground until Ctrl-C.

The lead registers `demo_target_command` on the typer app; this module builds no app itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
from typing import Annotated

import typer

from wfmon.clock import SystemClock
from wfmon.demo.faults import FaultPlan, FaultPlanError, parse_fault_flags
from wfmon.demo.server import ShopHandle, serve
from wfmon.demo.state import DEFAULT_ADMIN_TOKEN
from wfmon.demo.store import DEFAULT_DEMO_PASSWORD

FAULT_HELP = (
    "A fault to start with, repeatable: login=down, error_rate=0.2, latency_ms=300, "
    "latency_ms.login=500, degrade_ms_per_min=20, bad_deploy_at=+10m (or an ISO time), "
    "bad_deploy_endpoints=orders,cart. Change them later with PUT /admin/faults."
)


def demo_target_command(
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 8900,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    latency_scale: Annotated[
        float, typer.Option(help="Multiplies the normal latency; 0 switches it off.", min=0)
    ] = 1.0,
    fault: Annotated[list[str] | None, typer.Option("--fault", help=FAULT_HELP)] = None,
    admin_token: Annotated[
        str,
        typer.Option(
            envvar="WFMON_DEMO_ADMIN_TOKEN", help="Token for /admin/* (header X-Admin-Token)."
        ),
    ] = DEFAULT_ADMIN_TOKEN,
    seed: Annotated[int | None, typer.Option(help="Seed the latency and error randomness.")] = None,
) -> None:
    """Run the Farmers Market demo shop, the target the example workflows monitor."""
    clock = SystemClock()
    try:
        plan = parse_fault_flags(fault or [], clock.now())
    except FaultPlanError as exc:
        raise typer.BadParameter(str(exc), param_hint="--fault") from None
    demo_password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    # basicConfig does nothing when the wfmon CLI has already configured logging.
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def ready(shop: ShopHandle) -> None:
        typer.echo(f"Farmers Market listening on {shop.base_url}  (Ctrl-C stops it)")
        # Never echo a password that came from the environment: it may be a real secret.
        shown = "$DEMO_PASSWORD" if os.environ.get("DEMO_PASSWORD") else demo_password
        typer.echo(f"  demo login: demo@example.com / {shown}")
        if plan != FaultPlan():
            typer.echo(f"  faults: {plan.to_json()}")

    async def run() -> None:
        # SIGTERM (docker stop, systemd) stops as cleanly as Ctrl-C does.
        task = asyncio.current_task()
        if task is not None:
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await serve(
                host,
                port,
                latency_scale=latency_scale,
                faults=plan,
                clock=clock,
                # Not security-sensitive: jitter and which requests fail.
                rng=random.Random(seed),  # noqa: S311
                admin_token=admin_token,
                demo_password=demo_password,
                on_ready=ready,
            )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    typer.echo("Farmers Market stopped")
