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
    no_api: Annotated[
        bool, typer.Option("--no-api", help="Do not serve the API and dashboard.")
    ] = False,
    api_host: Annotated[
        str | None, typer.Option(help="API address (default $WFMON_API_HOST or 127.0.0.1).")
    ] = None,
    api_port: Annotated[
        int | None, typer.Option(help="API port (default $WFMON_API_PORT or 8080).")
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
        from wfmon.api.settings import ApiSettings
        from wfmon.api.wiring import attach

        async with build_app(conf) as app:
            daemon = Daemon(app, instance=instance)
            # The event journal, rollups and retention always; the API unless --no-api.
            attach(
                daemon, api=not no_api, settings=ApiSettings.from_env(host=api_host, port=api_port)
            )
            return await daemon.run()

    code = run(go())
    raise typer.Exit(code)
