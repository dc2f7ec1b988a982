"""`wfmon status` (is everything all right, and if not what to do) and `wfmon report`.

Both only read the database (no migration, no writes), so they are safe to run anywhere
that can reach it while the daemon runs elsewhere.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.text import Text

from wfmon.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    ConfigOption,
    JsonOption,
    console,
    err_console,
    print_problems,
    run,
    settings,
)
from wfmon.clock import SystemClock
from wfmon.config.base import parse_duration
from wfmon.config.loader import load
from wfmon.domain.workflow import Workflow
from wfmon.errors import StorageError
from wfmon.reports import FORMATS, all_passed, build_report, render, validate
from wfmon.reports.model import Report
from wfmon.reports.render import Format
from wfmon.status import assess, recommend
from wfmon.status.facts import (
    DEFAULT_HEALTH_INTERVAL_S,
    DatabaseFacts,
    StatusFacts,
    gather,
    unavailable,
)
from wfmon.status.render import StatusView, status_json
from wfmon.status.render import render as render_status
from wfmon.storage.db import open_database


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("report")(report)


def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Is monitoring healthy? A verdict with its reasons, and what to do about it.

    Reads only the database; schedules are the stored ones, or the config's with -c.

    Exit codes: 0 HEALTHY, 1 DEGRADED, 2 DOWN, 3 UNKNOWN (the daemon never ran here).
    """
    conf = settings(config)
    workflows, interval_s = _configured(conf.config_path) if config is not None else (None, None)
    now = SystemClock().now()

    async def go() -> StatusFacts:
        default = interval_s or DEFAULT_HEALTH_INTERVAL_S
        missing = _missing_sqlite_file(conf.database_url)
        if missing is not None:
            # Opening it would create an empty file: say what is (not) there instead.
            return StatusFacts(DatabaseFacts(str(missing), "sqlite"), default_interval_s=default)
        try:
            db = await open_database(conf.database_url, upgrade=False)
        except StorageError as error:
            return unavailable(_redacted(conf.database_url), str(error))
        try:
            return await gather(db, now, workflows=workflows, default_interval_s=default)
        finally:
            await db.dispose()

    facts = run(go())
    verdict = assess(facts, now)
    view = StatusView(facts, verdict, recommend(facts, now), now)
    if as_json:
        print(json.dumps(status_json(view), indent=2, default=str, ensure_ascii=False))
    else:
        render_status(console, view)
    raise typer.Exit(verdict.exit_code)


def report(
    config: ConfigOption = None,
    since: Annotated[
        str, typer.Option("--since", help="The period: from this long ago until now (24h, 7d).")
    ] = "24h",
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, json or html.")] = "md",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--validate",
            help="Print PASS/FAIL per target instead (exit 1 if any fails); with -o the "
            "report is still written.",
        ),
    ] = False,
) -> None:
    """Uptime, schedule adherence, durations, failures, daemon uptime over a period.

    Exit codes: 0; with --validate, 1 when a target fails; 2 for bad arguments or no database.
    """
    if fmt not in FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS)}", param_hint="--format")
    try:
        period = parse_duration(since)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--since") from error
    if period <= 0:
        raise typer.BadParameter("the period must be longer than 0", param_hint="--since")
    conf = settings(config)
    workflows, interval_s = _configured(conf.config_path) if config is not None else (None, None)
    now = SystemClock().now()

    async def go() -> Report:
        missing = _missing_sqlite_file(conf.database_url)
        if missing is not None:
            raise StorageError(f"no database at {missing}: has `wfmon run` ever run here?")
        db = await open_database(conf.database_url, upgrade=False)
        try:
            if await db.current_revision() is None:
                raise StorageError(f"{db.redacted_url} has no wfmon tables yet")
            return await build_report(
                db,
                now - timedelta(seconds=period),
                now,
                workflows=workflows,
                default_interval_s=interval_s or DEFAULT_HEALTH_INTERVAL_S,
            )
        finally:
            await db.dispose()

    try:
        built = run(go())
    except StorageError as error:
        err_console.print(Text.assemble(("cannot read the database: ", "red"), str(error)))
        raise typer.Exit(EXIT_CONFIG) from error
    chosen: Format = "json" if fmt == "json" else "html" if fmt == "html" else "md"
    if output is not None:
        output.write_text(render(built, chosen), encoding="utf-8")
    if check:
        results = validate(built)
        if chosen == "json":
            print(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False))
        else:
            for r in results:
                sys.stdout.write(f"{r.verdict}  {r.name}: {r.actual} (goal {r.goal}; {r.detail})\n")
        raise typer.Exit(EXIT_OK if all_passed(results) else EXIT_FAILED)
    if output is None:
        sys.stdout.write(render(built, chosen))  # not Rich: the text must not be re-styled
    else:
        err_console.print(f"report written to {output}", markup=False)


def _configured(path: Path) -> tuple[Sequence[Workflow] | None, float | None]:
    """The config's workflows and health interval. Problems are printed, not fatal: the
    workflows that loaded are used, and without any config file the stored schedules are
    (an exit code of its own would be mistaken for a verdict)."""
    result = load(path, check_env=False)
    print_problems(result.problems)
    if not result.files:
        err_console.print("using the schedules stored in the database instead", markup=False)
        return None, None
    return result.workflows, result.daemon.health_interval


def _missing_sqlite_file(url: str) -> Path | None:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        return None
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return None
    path = Path(parsed.database).expanduser()
    return None if path.exists() else path


def _redacted(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(unparseable URL)"
