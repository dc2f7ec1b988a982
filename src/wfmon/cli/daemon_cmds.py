"""`wfmon run`: the long-running monitor."""

from __future__ import annotations

from typing import Annotated

import typer

from wfmon.app import build_app
from wfmon.cli.common import ConfigOption, run, settings
from wfmon.daemon import Daemon
from wfmon.logs import configure


def register(app: typer.Typer) -> None:
    app.command("run")(run_daemon)


def run_daemon(
    config: ConfigOption = None,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text or json (one object per line).")
    ] = "text",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    instance: Annotated[
        str | None,
        typer.Option(
            help="This daemon's name in claimed slots (default: $WFMON_INSTANCE "
            "or the host name). Give each daemon sharing a database its own."
        ),
    ] = None,
) -> None:
    """Run every workflow on its schedule until stopped (SIGTERM/SIGINT; SIGHUP reloads).

    Exit codes: 0 after a clean stop, 2 when the config cannot be used at all.
    """
    if log_format not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--log-format")
    configure(log_format, log_level)
    conf = settings(config)

    async def go() -> int:
        async with build_app(conf) as app:
            return await Daemon(app, instance=instance).run()

    code = run(go())
    raise typer.Exit(code)
