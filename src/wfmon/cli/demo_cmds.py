"""`wfmon demo`: the demo shop and the monitor, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wfmon.cli.common import console, run
from wfmon.demo.showcase import run_demo
from wfmon.logs import configure


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    port: Annotated[int, typer.Option(help="The demo shop's port (0: any free port).")] = 8900,
    speed: Annotated[
        float, typer.Option(help="How much faster schedules run (60: a minute is an hour).")
    ] = 60.0,
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo keeps its config and database (reset each run).")
    ] = Path(".wfmon-demo"),
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: Ctrl-C).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Daemon log level.")] = "warning",
    api_port: Annotated[
        int, typer.Option(help="The dashboard's port on 127.0.0.1 (0: any free port).")
    ] = 8080,
) -> None:
    """Start the Farmers Market demo shop and monitor it with the six example journeys."""
    configure("text", log_level)
    code = run(
        run_demo(
            data_dir=data_dir,
            port=port,
            speed=speed,
            console=console,
            duration_s=duration,
            api_port=api_port,
        )
    )
    raise typer.Exit(code)
