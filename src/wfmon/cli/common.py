"""Options and helpers shared by commands."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from wfmon.config.loader import LoadResult
from wfmon.errors import ConfigProblem
from wfmon.settings import Settings

T = TypeVar("T")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file or directory (default: $WFMON_CONFIG or ./wfmon.yaml)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2


def settings(config: Path | None) -> Settings:
    return Settings.from_env(config_path=config)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on uvloop when it is installed (the `speed` extra)."""
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def print_problems(problems: list[ConfigProblem]) -> None:
    for problem in problems:
        # Plain text, one line each: editors and CI annotate `file:line:col:` lines.
        print(str(problem), file=sys.stderr)


def report_config(result: LoadResult) -> None:
    if result.problems:
        print_problems(result.problems)
        n = len(result.problems)
        err_console.print(f"[red]{n} problem{'s' if n != 1 else ''}[/red] in the configuration")
