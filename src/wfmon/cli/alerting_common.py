"""Helpers shared by the alerting commands (`alerts`, `silence`, `notify`)."""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.text import Text

from wfmon.alerts.setup import AlertingConfig
from wfmon.cli.common import (
    EXIT_CONFIG,
    err_console,
    print_problems,
    run,
    settings,
)
from wfmon.config.loader import load
from wfmon.errors import StorageError
from wfmon.storage import Database
from wfmon.storage.db import open_database

T = TypeVar("T")

ByOption = Annotated[
    str | None, typer.Option("--by", help="Who does it (default: cli:$USER), for the audit trail.")
]
NoteOption = Annotated[str | None, typer.Option("--note", help="Why, for the audit trail.")]


def actor(by: str | None) -> str:
    return by or f"cli:{getpass.getuser()}"


def with_db(config: Path | None, work: Callable[[Database], Awaitable[T]]) -> T:
    async def go() -> T:
        db = await open_database(settings(config).database_url, upgrade=False)
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return run(go())
    except StorageError as error:
        err_console.print(Text.assemble(("cannot use the database: ", "red"), str(error)))
        err_console.print("(hint: has `wfmon run` or `wfmon db upgrade` run against it?)")
        raise typer.Exit(EXIT_CONFIG) from error


def alerting_config(config: Path | None, *, strict: bool = False) -> AlertingConfig:
    result = load(settings(config).config_path, check_env=False)
    if result.problems and (strict or not result.files):
        print_problems(result.problems)
    if strict and not result.files:
        raise typer.Exit(EXIT_CONFIG)
    return AlertingConfig.from_load(result) if result.files else AlertingConfig()
