"""`wfmon notify test|list|retry|flush`: the channels and the outbox."""

from __future__ import annotations

import json
import os
from typing import Annotated

import aiohttp
import typer
from rich.table import Table
from rich.text import Text

from wfmon.alerts.messages import MessageRenderer
from wfmon.alerts.notifiers import ChannelBase
from wfmon.alerts.notifiers.base import channel_fields
from wfmon.alerts.sender import OutboxSender, deliver
from wfmon.alerts.setup import AlertingConfig
from wfmon.cli.alerting_common import (
    alerting_config,
    with_db,
)
from wfmon.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    ConfigOption,
    JsonOption,
    console,
    err_console,
    run,
)
from wfmon.clock import SystemClock
from wfmon.domain.alert import NotificationStatus
from wfmon.errors import NotifierError
from wfmon.scheduler.scheduler import default_instance
from wfmon.storage import Database, OutboxRepository

notify_app = typer.Typer(help="Notification channels and the outbox.", no_args_is_help=True)


# -- wfmon notify -------------------------------------------------------------------------


@notify_app.command("test")
def notify_test(channel: str, config: ConfigOption = None) -> None:
    """Send a test message on CHANNEL and print what the receiver answered."""
    alerting = alerting_config(config, strict=True)
    found = alerting.channel(channel)
    if found is None:
        names = ", ".join(c.name for c in alerting.channels) or "none configured"
        err_console.print(f"no channel named {channel!r} (channels: {names})", markup=False)
        raise typer.Exit(EXIT_CONFIG)
    console.print_json(data=channel_fields(found))
    ok, text = run(send_test(alerting, found))
    (console if ok else err_console).print(text, markup=False)
    raise typer.Exit(0 if ok else EXIT_FAILED)


@notify_app.command("list")
def list_notifications(
    config: ConfigOption = None,
    status: Annotated[str | None, typer.Option("--status", help="pending, sent or dead.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The outbox, newest first: what was sent, what waits, what is dead and why."""
    wanted = NotificationStatus(status) if status else None
    rows = with_db(config, lambda db: OutboxRepository(db).list(status=wanted, limit=limit))
    if as_json:
        print(json.dumps([r.__dict__ for r in rows], indent=2, default=str))
        return
    table = Table()
    for column in ("id", "event", "channel", "status", "attempts", "due / sent", "last answer"):
        table.add_column(column)
    for r in rows:
        when = r.sent_at or r.due_at
        answer = r.last_error or r.answer or ""
        table.add_row(
            str(r.id), str(r.event_id), Text(r.channel), r.status.value, str(r.attempts),
            f"{when:%Y-%m-%d %H:%M:%S}", Text(answer[:120]),
        )  # fmt: skip
    console.print(table)


@notify_app.command("retry")
def retry_notification(notification_id: int, config: ConfigOption = None) -> None:
    """Send a dead notification again (after fixing its channel)."""
    now = SystemClock().now()
    done = with_db(config, lambda db: OutboxRepository(db).retry(notification_id, now))
    if not done:
        err_console.print(f"no dead notification {notification_id}")
        raise typer.Exit(EXIT_FAILED)
    console.print(f"notification {notification_id} queued again")


@notify_app.command("flush")
def flush(config: ConfigOption = None) -> None:
    """Send what the outbox holds that is due now, then exit (the daemon does this all the
    time; this is for draining it while the daemon is stopped)."""
    alerting = alerting_config(config, strict=True)
    sent, dead = with_db(config, lambda db: flush_outbox(db, alerting))
    console.print(f"{sent} batch(es) sent, {dead} dead")


async def send_test(alerting: AlertingConfig, channel: ChannelBase) -> tuple[bool, str]:
    """(accepted, what the receiver said)."""
    clock = SystemClock()
    message = MessageRenderer(alerting.spec.templates).render(
        delivery_id=f"test-{int(clock.now().timestamp())}",
        channel=channel.name,
        group_key="test",
        items=(),
        test=True,
    )
    try:
        async with aiohttp.ClientSession() as session:
            delivery = await deliver(channel, message, session, clock, os.environ)
    except NotifierError as error:
        kind = "permanent: fix the channel" if error.permanent else "transient: may pass later"
        return False, f"not delivered ({kind}): {error}"
    code = f"{delivery.status} " if delivery.status is not None else ""
    return True, f"delivered: {code}{delivery.answer}".rstrip()


async def flush_outbox(db: Database, alerting: AlertingConfig) -> tuple[int, int]:
    """Send every due batch once (retries wait for their time); (sent, dead)."""
    sender = OutboxSender(db=db, clock=SystemClock(), config=alerting, instance=default_instance())
    try:
        await sender.start()
        while await sender.run_once():
            pass
    finally:
        await sender.aclose()
    return sender.stats.sent, sender.stats.dead
