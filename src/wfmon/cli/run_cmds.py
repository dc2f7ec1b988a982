"""`wfmon check` (run one workflow now) and `wfmon executions` (what was recorded)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from wfmon.app import build_app
from wfmon.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    ConfigOption,
    JsonOption,
    console,
    err_console,
    print_problems,
    run,
    settings,
)
from wfmon.cli.render import (
    failure_lines,
    ms,
    result_json,
    status_text,
    steps_table,
    summary_line,
)
from wfmon.config.loader import load
from wfmon.domain.run import ExecutionResult, ExecutionStatus


def register(app: typer.Typer) -> None:
    app.command()(check)
    app.command()(executions)


def check(
    workflow: Annotated[str, typer.Argument(help="The workflow's name.")],
    config: ConfigOption = None,
    location: Annotated[str | None, typer.Option(help="Run as this location.")] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not store the execution.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run one workflow now, record it, and show each step. Exit 0 if it succeeded, else 1."""
    conf = settings(config)
    loaded = load(conf.config_path)
    chosen = next((w for w in loaded.workflows if w.name == workflow), None)
    if loaded.problems:
        # Other workflows' problems do not stop this one (a bad workflow never stops the others).
        print_problems(loaded.problems)
    if chosen is None:
        known = ", ".join(w.name for w in loaded.workflows) or "none"
        err_console.print(f"[red]no valid workflow named {workflow!r}[/red] (valid: {known})")
        raise typer.Exit(EXIT_CONFIG)

    async def go() -> tuple[ExecutionResult, int | None]:
        async with build_app(conf) as app:
            result = await app.engine.run(chosen, location=location, trigger="manual")
            if no_record:
                return result, None
            await app.workflows.sync([chosen], app.clock.now(), remove_missing=False)
            ids = await app.executions.record_many([result])
            return result, ids[0]

    result, execution_id = run(go())
    if as_json:
        print(json.dumps(result_json(result, execution_id), default=str, indent=2))
    else:
        console.print(steps_table(result))
        for line in failure_lines(result):
            console.print(line)
        console.print(summary_line(result, execution_id))
    if result.status is not ExecutionStatus.SUCCEEDED:
        raise typer.Exit(EXIT_FAILED)


def executions(
    config: ConfigOption = None,
    workflow: Annotated[str | None, typer.Option(help="Only this workflow.")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 20,
    as_json: JsonOption = False,
) -> None:
    """List recorded executions, newest first."""
    if status is not None and status not in {s.value for s in ExecutionStatus}:
        valid = ", ".join(s.value for s in ExecutionStatus)
        err_console.print(f"[red]unknown status {status!r}[/red]; one of {valid}")
        raise typer.Exit(EXIT_CONFIG)
    conf = settings(config)

    async def go() -> list[Any]:
        async with build_app(conf) as app:
            wanted = ExecutionStatus(status) if status is not None else None
            return list(await app.executions.list(workflow=workflow, status=wanted, limit=limit))

    rows = run(go())
    if as_json:
        print(json.dumps([_row_json(r) for r in rows], default=str, indent=2))
        return
    table = Table(title_justify="left")
    for column in ("id", "workflow", "location", "slot", "status", "duration ms", "error"):
        table.add_column(column, justify="right" if column in ("id", "duration ms") else "left")
    for r in rows:
        table.add_row(
            str(r.id),
            Text(r.workflow),
            Text(r.location),
            _when(r.slot_at),
            status_text(r.status),
            ms(r.duration_ms),
            Text(r.error or ""),
        )
    console.print(table if rows else "no executions recorded yet")


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _row_json(row: Any) -> dict[str, Any]:
    from dataclasses import asdict

    data: dict[str, Any] = asdict(row)
    return data
