"""The `wfmon` command line (Typer + Rich). Each module adds one group of commands."""

from __future__ import annotations

import typer

from wfmon.cli import (
    alerts_cmds,
    analyze_cmds,
    api_cmds,
    config_cmds,
    daemon_cmds,
    db_cmds,
    demo_cmds,
    run_cmds,
    status_cmds,
)
from wfmon.demo.cli import demo_target_command

app = typer.Typer(
    name="wfmon",
    help="Workflow monitoring bot: scripted multi-step checks, recorded and analysed.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
config_cmds.register(app)
run_cmds.register(app)
daemon_cmds.register(app)
status_cmds.register(app)
demo_cmds.register(app)
analyze_cmds.register(app)
alerts_cmds.register(app)
api_cmds.register(app)
app.add_typer(db_cmds.app, name="db")
app.command("demo-target", help="Serve the Farmers Market demo shop (the target to monitor).")(
    demo_target_command
)


def main() -> None:
    app()
