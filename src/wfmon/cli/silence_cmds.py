"""`wfmon silence add|list|expire`: hold notifications (never recording) for a while."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from wfmon.alerts.operator import AlertOperator
from wfmon.alerts.silences import window_at
from wfmon.cli.alerting_common import (
    ByOption,
    actor,
    with_db,
)
from wfmon.cli.common import (
    EXIT_FAILED,
    ConfigOption,
    JsonOption,
    console,
    err_console,
)
from wfmon.clock import SystemClock
from wfmon.config.base import parse_duration
from wfmon.domain.alert import Silence
from wfmon.storage import Database, SilenceRepository

silence_app = typer.Typer(help="Silences: hold notifications for a while.", no_args_is_help=True)


# -- wfmon silence ------------------------------------------------------------------------


@silence_app.command("add")
def add_silence(
    comment: Annotated[str, typer.Option("--comment", "-m", help="Why (required).")],
    config: ConfigOption = None,
    workflow: Annotated[
        list[str] | None, typer.Option("--workflow", "-w", help="Name or glob; repeat.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Repeat for several.")
    ] = None,
    location: Annotated[list[str] | None, typer.Option("--location", "-l")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Everything, wfmon's own alerts too.")
    ] = False,
    start: Annotated[str | None, typer.Option("--start", help="ISO time (default: now).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="ISO time.")] = None,
    for_: Annotated[str | None, typer.Option("--for", help="How long from the start (2h).")] = None,
    cron: Annotated[
        str | None, typer.Option("--cron", help="Recurring: when each window opens.")
    ] = None,
    duration: Annotated[str | None, typer.Option("--duration", help="Recurring: how long.")] = None,
    timezone: Annotated[str, typer.Option("--timezone", "--tz")] = "UTC",
    name: Annotated[str | None, typer.Option("--name")] = None,
    by: ByOption = None,
) -> None:
    """Hold notifications (executions and alert states are still recorded)."""
    if not (workflow or tag or location or every):
        raise typer.BadParameter("give --workflow, --tag, --location, or --all")
    try:
        zone = ZoneInfo(timezone)
        now = SystemClock().now()
        starts = _when(start, zone) if start else now
        ends = _when(end, zone) if end else None
        if for_ is not None:
            ends = starts + timedelta(seconds=parse_duration(for_))
        seconds = parse_duration(duration) if duration else None
    except (ValueError, KeyError) as error:
        raise typer.BadParameter(str(error)) from error

    async def go(db: Database) -> Silence:
        return await AlertOperator(db, SystemClock()).add_silence(
            author=actor(by),
            comment=comment,
            source="cli",
            workflows=workflow or (),
            tags=tag or (),
            locations=location or (),
            starts_at=None if cron else starts,
            ends_at=None if cron else ends,
            cron=cron,
            duration_s=seconds,
            timezone=timezone,
            name=name,
        )

    try:
        silence = with_db(config, go)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    console.print(f"silence {silence.id} added", markup=False)


def _when(text: str, zone: ZoneInfo) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


@silence_app.command("list")
def list_silences(
    config: ConfigOption = None,
    include_expired: Annotated[bool, typer.Option("--all", help="Expired ones too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Silences, with whether each holds notifications now."""
    found = with_db(config, lambda db: SilenceRepository(db).list(include_expired=include_expired))
    now = SystemClock().now()
    if as_json:
        print(
            json.dumps([_silence_json(s, window_at(s, now)) for s in found], indent=2, default=str)
        )
        return
    table = Table()
    for column in ("id", "name", "matches", "when", "now", "by", "comment"):
        table.add_column(column)
    for s in found:
        active = window_at(s, now)
        matches = ", ".join(
            [*(f"workflow={w}" for w in s.workflows), *(f"tag={t}" for t in s.tags)]
            + [f"location={loc}" for loc in s.locations]
        )
        when = (
            f"cron {s.cron} for {s.duration_s:g}s ({s.timezone})"
            if s.cron
            else f"{s.starts_at:%Y-%m-%d %H:%M} → {s.ends_at:%Y-%m-%d %H:%M} UTC"
        )
        table.add_row(
            str(s.id),
            Text(s.name or "-"),
            Text(matches or "everything"),
            when,
            Text("active", style="bold yellow") if active else "-",
            Text(s.author),
            Text(s.comment),
        )
    console.print(table)


def _silence_json(s: Silence, active: Any) -> dict[str, Any]:
    return {
        "id": s.id, "name": s.name, "source": s.source, "author": s.author, "comment": s.comment,
        "workflows": list(s.workflows), "tags": list(s.tags), "locations": list(s.locations),
        "starts_at": s.starts_at, "ends_at": s.ends_at, "cron": s.cron,
        "duration_s": s.duration_s, "timezone": s.timezone, "expired_at": s.expired_at,
        "active": active is not None,
    }  # fmt: skip


@silence_app.command("expire")
def expire_silence(silence_id: int, config: ConfigOption = None) -> None:
    """End a silence now; what it held goes out on the daemon's next check."""
    done = with_db(config, lambda db: AlertOperator(db, SystemClock()).expire_silence(silence_id))
    if not done:
        err_console.print(f"no active silence {silence_id}")
        raise typer.Exit(EXIT_FAILED)
    console.print(f"silence {silence_id} expired")
