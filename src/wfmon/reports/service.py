"""The daemon's periodic report: Markdown and JSON files in the data directory.

Reports are written on the boundaries of the interval (every hour on the hour by default,
as slots of an epoch-anchored interval schedule), each covering the interval before it, so
reports from restarts or from several daemons line up and a file's name says its period.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wfmon.app import App
from wfmon.clock import sleep_or_event
from wfmon.domain.workflow import Schedule
from wfmon.errors import StorageError
from wfmon.reports.build import build_report
from wfmon.reports.render import render_json, render_markdown
from wfmon.scheduler.cron import next_slot
from wfmon.status.facts import DEFAULT_HEALTH_INTERVAL_S

log = logging.getLogger(__name__)

FILE_STEM = "report-%Y%m%dT%H%M"  # UTC end of the period, e.g. report-20260301T1300
KEEP_DAYS = 30.0  # report files older than this are deleted when a new one is written


def report_stem(end: datetime) -> str:
    return end.strftime(FILE_STEM)


def expired_reports(names: Iterable[str], now: datetime, keep_days: float) -> list[str]:
    """The report file names (`report-YYYYmmddTHHMM.md|.json`) whose period ended more than
    `keep_days` before `now`; any other name is never returned. Pure."""
    cutoff = now - timedelta(days=keep_days)
    out = []
    for name in names:
        stem, dot, suffix = name.partition(".")
        if not dot or suffix not in ("md", "json"):
            continue
        try:
            end = datetime.strptime(stem, FILE_STEM).replace(tzinfo=UTC)
        except ValueError:
            continue
        if end < cutoff:
            out.append(name)
    return sorted(out)


async def write_report(
    app: App,
    end: datetime,
    period_s: float,
    *,
    directory: Path | None = None,
    health_interval_s: float = DEFAULT_HEALTH_INTERVAL_S,
    keep_days: float = KEEP_DAYS,
) -> list[Path]:
    """Write `report-YYYYmmddTHHMM.md` and `.json` for (end - period_s, end) into
    `directory` (default: the data directory); returns the two paths. Reports that ended
    more than `keep_days` before this one are deleted.

    Each file is written to a temporary name and renamed, so a reader never sees half a
    report. Raises StorageError or OSError (the service logs them).
    """
    start = end - timedelta(seconds=period_s)
    report = await build_report(
        app.db,
        start,
        end,
        generated_at=app.clock.now(),
        default_interval_s=health_interval_s,
    )
    target = directory if directory is not None else app.settings.data_dir
    target.mkdir(parents=True, exist_ok=True)
    stem = report_stem(end)
    written = []
    for suffix, text in ((".md", render_markdown(report)), (".json", render_json(report))):
        path = target / f"{stem}{suffix}"
        _write_atomically(path, text)
        written.append(path)
    for name in expired_reports((p.name for p in target.glob("report-*")), end, keep_days):
        (target / name).unlink(missing_ok=True)
    return written


async def report_service(
    app: App,
    interval_s: float,
    stop: asyncio.Event,
    *,
    health_interval_s: float = DEFAULT_HEALTH_INTERVAL_S,
) -> None:
    """Write a report at every multiple of `interval_s` until `stop` is set (0: never).

    A failure to write one (database down, disk full) is logged and the next one is tried
    on time: reporting must never stop the daemon.
    """
    if interval_s <= 0:
        return
    schedule = Schedule(every_s=interval_s)
    clock = app.clock
    while not stop.is_set():
        due = next_slot(schedule, clock.now())
        await sleep_or_event(clock, max(0.0, (due - clock.now()).total_seconds()), stop)
        if stop.is_set():
            return
        if clock.now() < due:
            continue  # woken early (the wall clock went back): wait for the same boundary
        try:
            paths = await write_report(app, due, interval_s, health_interval_s=health_interval_s)
        except (StorageError, OSError) as error:
            log.error(
                "cannot write the report ending %s: %s",
                due.isoformat(),
                error,
                extra={"event": "report.failed"},
            )
            continue
        log.info(
            "report written: %s",
            ", ".join(str(p) for p in paths),
            extra={"event": "report.written", "paths": [str(p) for p in paths]},
        )


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
