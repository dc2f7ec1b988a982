"""`wfmon init`, `wfmon validate`, `wfmon schema`."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from wfmon.cli.common import (
    EXIT_CONFIG,
    ConfigOption,
    JsonOption,
    console,
    err_console,
    report_config,
    settings,
)
from wfmon.config.loader import load
from wfmon.config.schema import json_schema


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(validate)
    app.command()(schema)


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the example.")] = Path("wfmon.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example config to start from."""
    if path.exists() and not force:
        err_console.print(f"[red]{path} exists[/red]; use --force to overwrite it")
        raise typer.Exit(EXIT_CONFIG)
    text = resources.files("wfmon.config").joinpath("example.yaml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    console.print(f"wrote {path}; check it with [bold]wfmon validate -c {path}[/bold]")


def validate(
    config: ConfigOption = None,
    no_env: Annotated[
        bool, typer.Option("--no-env", help="Do not require ${env:...} variables to be set.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check the config; print every problem as file:line:col: field: message. Exit 2 if any."""
    result = load(settings(config).config_path, check_env=not no_env)
    if as_json:
        print(
            json.dumps(
                {
                    "valid": result.ok,
                    "workflows": [w.name for w in result.workflows],
                    "problems": [
                        {
                            "file": p.file,
                            "line": p.line,
                            "column": p.column,
                            "path": p.path,
                            "message": p.message,
                            "hint": p.hint,
                        }
                        for p in result.problems
                    ],
                },
                indent=2,
            )
        )
    else:
        report_config(result)
        if result.ok:
            n = len(result.workflows)
            files = ", ".join(str(f) for f in result.files)
            console.print(f"[green]valid[/green]: {n} workflow{'s' if n != 1 else ''} in {files}")
    if not result.ok:
        raise typer.Exit(EXIT_CONFIG)


def schema() -> None:
    """Print the config's JSON Schema (for editor autocompletion and validation)."""
    print(json.dumps(json_schema(), indent=2))
