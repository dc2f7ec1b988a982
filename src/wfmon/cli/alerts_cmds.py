"""`wfmon alerts` (list, ack, resolve, history), and the one `register` that adds the
alerting command groups: `alerts`, `silence` (silence_cmds) and `notify` (notify_cmds).

They read and write the database only (through `wfmon.alerts.operator`), so they work
while the daemon runs elsewhere; `notify test` and `notify flush` also read the config,
for the channels.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from wfmon.alerts.operator import AlertOperator
from wfmon.cli.alerting_common import (
    ByOption,
    NoteOption,
    actor,
    alerting_config,
    with_db,
)
from wfmon.cli.common import (
    EXIT_FAILED,
    ConfigOption,
    JsonOption,
    console,
    err_console,
)
from wfmon.cli.notify_cmds import notify_app
from wfmon.cli.silence_cmds import silence_app
from wfmon.clock import SystemClock
from wfmon.config.base import parse_duration
from wfmon.domain.alert import Alert, AlertEvent, AlertState
from wfmon.status.words import ago
from wfmon.storage import AlertRepository, Database

alerts_app = typer.Typer(help="Alerts: list, acknowledge, resolve, history.", no_args_is_help=True)
STATE_STYLE = {"firing": "bold red", "acknowledged": "yellow", "resolved": "green"}


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(silence_app, name="silence")
    app.add_typer(notify_app, name="notify")


# -- wfmon alerts -------------------------------------------------------------------------


@alerts_app.command("list")
def list_alerts(
    config: ConfigOption = None,
    state: Annotated[
        str, typer.Option("--state", help="firing, acknowledged, resolved, open or all.")
    ] = "open",
    workflow: Annotated[str | None, typer.Option("--workflow", "-w")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Alerts, newest change first (default: the open ones)."""
    states = _states(state)
    found = with_db(
        config,
        lambda db: AlertRepository(db).list(states=states, workflow=workflow, limit=limit),
    )
    if as_json:
        print(json.dumps([_alert_json(a) for a in found], indent=2, ensure_ascii=False))
        return
    if not found:
        console.print(f"no {state} alerts")
        return
    now = SystemClock().now()
    table = Table()
    for column in ("id", "state", "severity", "workflow", "rule", "since", "summary"):
        table.add_column(column)
    for alert in found:
        table.add_row(
            str(alert.id),
            Text(alert.state.value, style=STATE_STYLE.get(alert.state.value, "")),
            alert.severity.value,
            Text(alert.workflow or "wfmon")
            + Text(f" @ {alert.location}" if alert.location else ""),
            Text(alert.rule),
            ago(alert.opened_at, now),
            Text(alert.summary),
        )
    console.print(table)


@alerts_app.command("ack")
def acknowledge(
    alert_id: int, config: ConfigOption = None, note: NoteOption = None, by: ByOption = None
) -> None:
    """Acknowledge an alert: someone is on it, reminders stop."""
    _act(config, alert_id, "acknowledge", note, by)


@alerts_app.command("resolve")
def resolve(
    alert_id: int, config: ConfigOption = None, note: NoteOption = None, by: ByOption = None
) -> None:
    """Resolve an alert by hand (it reopens if its rule still fails)."""
    _act(config, alert_id, "resolve", note, by)


def _act(config: Path | None, alert_id: int, action: str, note: str | None, by: str | None) -> None:
    alerting = alerting_config(config)

    async def go(db: Database) -> Any:
        operator = AlertOperator(db, SystemClock(), alerting)
        if action == "acknowledge":
            return await operator.acknowledge(alert_id, actor=actor(by), note=note)
        return await operator.resolve(alert_id, actor=actor(by), note=note)

    result = with_db(config, go)
    if result.alert is None:
        err_console.print(f"no alert {alert_id} ({result.reason.replace('_', ' ')})")
        raise typer.Exit(EXIT_FAILED)
    if not result.changed:
        console.print(f"alert {alert_id}: nothing to do ({result.reason.replace('_', ' ')})")
        return
    told = f", {result.notifications} notification(s) queued" if result.notifications else ""
    console.print(f"alert {alert_id} {result.alert.state.value}{told}")


@alerts_app.command("history")
def history(
    config: ConfigOption = None,
    alert_id: Annotated[int | None, typer.Option("--alert", help="One alert's events.")] = None,
    workflow: Annotated[str | None, typer.Option("--workflow", "-w")] = None,
    since: Annotated[str, typer.Option("--since", help="How far back (7d, 24h, 0 = all).")] = "30d",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
) -> None:
    """The audit trail: every change of every alert, who made it, when and why."""
    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter("use table, csv or json", param_hint="--format")
    period = parse_duration(since)
    start = SystemClock().now() - timedelta(seconds=period) if period else None
    events = with_db(
        config,
        lambda db: AlertRepository(db).history(alert_id=alert_id, workflow=workflow, since=start),
    )
    if fmt == "json":
        print(json.dumps([_event_json(e) for e in events], indent=2, ensure_ascii=False))
    elif fmt == "csv":
        sys.stdout.write(_events_csv(events))
    else:
        table = Table()
        for column in ("at", "alert", "event", "from → to", "by", "why"):
            table.add_column(column)
        for e in events:
            table.add_row(
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                Text(f"{e.alert_id} {e.dedup_key}"),
                e.kind.value,
                f"{e.from_state.value if e.from_state else '-'} → {e.to_state.value}",
                Text(e.actor),
                Text(e.message + (f" (note: {e.note})" if e.note else "")),
            )
        console.print(table)


CSV_COLUMNS = (
    "event_id", "at", "alert_id", "dedup_key", "workflow", "event", "from_state", "to_state",
    "actor", "reason", "message", "note", "execution_ids",
)  # fmt: skip


def _events_csv(events: list[AlertEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in events:
        writer.writerow(
            [
                e.id, e.at.isoformat(), e.alert_id, e.dedup_key, e.workflow or "", e.kind.value,
                e.from_state.value if e.from_state else "", e.to_state.value, e.actor, e.reason,
                e.message, e.note or "", " ".join(str(i) for i in e.execution_ids),
            ]
        )  # fmt: skip
    return out.getvalue()


def _event_json(e: AlertEvent) -> dict[str, Any]:
    return {
        "event_id": e.id,
        "at": e.at.isoformat(),
        "alert_id": e.alert_id,
        "dedup_key": e.dedup_key,
        "workflow": e.workflow,
        "event": e.kind.value,
        "from_state": e.from_state.value if e.from_state else None,
        "to_state": e.to_state.value,
        "actor": e.actor,
        "reason": e.reason,
        "message": e.message,
        "note": e.note,
        "execution_ids": list(e.execution_ids),
        "data": e.data,
    }


def _alert_json(a: Alert) -> dict[str, Any]:
    return {
        "id": a.id,
        "dedup_key": a.dedup_key,
        "episode": a.episode,
        "rule": a.rule,
        "kind": a.kind,
        "severity": a.severity.value,
        "state": a.state.value,
        "summary": a.summary,
        "workflow": a.workflow,
        "location": a.location,
        "group_key": a.group_key,
        "opened_at": a.opened_at.isoformat(),
        "changed_at": a.changed_at.isoformat(),
        "acknowledged_by": a.acknowledged_by,
        "resolved_by": a.resolved_by,
        "notified_state": a.notified_state.value if a.notified_state else None,
        "muted_by": a.muted_by,
        "details": a.details,
    }


def _states(state: str) -> list[AlertState] | None:
    if state == "all":
        return None
    if state == "open":
        return [AlertState.FIRING, AlertState.ACKNOWLEDGED]
    try:
        return [AlertState(state)]
    except ValueError as error:
        raise typer.BadParameter("firing, acknowledged, resolved, open or all") from error
