"""`wfmon run`: the scheduler, self health checks, reports and hot reload, wired together.

Stops cleanly on SIGTERM/SIGINT (in-flight runs get the grace period, the rest are recorded
`cancelled`) and reloads on SIGHUP or a change of the config file. A reload with any problem
is reported line by line and the last good config keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wfmon.alerts.runtime import Alerting
from wfmon.analytics.service import Analyzer
from wfmon.app import App
from wfmon.config.loader import LoadResult, load
from wfmon.config.schema import DaemonSpec
from wfmon.errors import StorageError
from wfmon.events import Event, EventBus
from wfmon.health.monitor import HealthMonitor, HealthOptions
from wfmon.reports.service import report_service
from wfmon.runtime import tune_gc
from wfmon.scheduler.scheduler import Scheduler, SchedulerOptions

log = logging.getLogger(__name__)

RECOVERY_REASON = "the daemon stopped while this run was in flight (recovered on start)"

EXIT_OK = 0
EXIT_CONFIG = 2
SERVICES_GRACE_S = 10.0


@dataclass
class Daemon:
    app: App
    bus: EventBus = field(default_factory=EventBus)
    instance: str | None = None
    # Extra long-running services (the API, the report writer) started beside the scheduler.
    services: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = field(
        default_factory=list
    )
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    reloads: int = 0
    scheduler: Scheduler | None = None
    health: HealthMonitor | None = None
    alerting: Alerting | None = None
    config: LoadResult | None = None

    async def run(self) -> int:
        app = self.app
        result = load(app.settings.config_path)
        if not result.files or (result.problems and not result.workflows):
            _log_problems(result, "cannot start")
            return EXIT_CONFIG
        _log_problems(result, "these workflows are left out")
        self.config = result
        spec = result.daemon
        now = app.clock.now()
        options = SchedulerOptions(max_concurrency=spec.max_concurrency, grace_s=spec.grace)
        if self.instance:
            options = replace(options, instance=self.instance)
        scheduler = Scheduler(
            engine=app.engine,
            executions=app.executions,
            clock=app.clock,
            bus=self.bus,
            options=options,
        )
        self.scheduler = scheduler
        recovered = await app.executions.abort_running(
            now, RECOVERY_REASON, claimed_by=options.instance
        )
        if recovered:
            log.warning(
                "%d run(s) left running by a previous daemon marked aborted",
                recovered,
                extra={"event": "daemon.recovered", "count": recovered},
            )
        await app.workflows.sync(result.workflows, now)
        # Judges every execution the scheduler publishes (and analytics' anomalies); its
        # outbox sender delivers what it decides. Subscribed before the first run.
        self.alerting = Alerting.build(
            db=app.db,
            clock=app.clock,
            config=result,
            instance=options.instance,
            bus=self.bus,
            started_at=now,
        )
        # Learns each series' normal from every execution the scheduler publishes; resumes
        # its saved state (or warms up from stored history) before the first run.
        analyzer = Analyzer(app.db, self.bus, app.clock)
        await analyzer.start()
        await scheduler.load(result.workflows, now)
        self.health = HealthMonitor(
            db=app.db,
            repo=app.health,
            scheduler=scheduler,
            clock=app.clock,
            bus=self.bus,
            options=_health_options(spec, app.settings.data_dir),
            started_at=now,
        )
        tune_gc()  # start-up is done: what exists now lives as long as the daemon
        log.info(
            "monitoring %d workflow(s) from %s (instance %s)",
            len(result.workflows),
            ", ".join(str(f) for f in result.files),
            options.instance,
            extra={"event": "daemon.started"},
        )
        with _signals(self):
            tasks = [
                asyncio.create_task(scheduler.run_forever(self.stop), name="scheduler"),
                asyncio.create_task(self.health.run_forever(self.stop), name="health"),
                asyncio.create_task(self.alerting.run(self.stop), name="alerts"),
                *(asyncio.create_task(s(self.stop)) for s in self.services),
            ]
            if spec.watch:
                tasks.append(asyncio.create_task(self._watch(), name="watch"))
            tasks.append(
                asyncio.create_task(
                    report_service(
                        app, spec.report_interval, self.stop, health_interval_s=spec.health_interval
                    ),
                    name="reports",
                )
            )
            await self.stop.wait()
            log.info(
                "stopping: in-flight runs get %g s",
                options.grace_s,
                extra={"event": "daemon.stopping"},
            )
            cancelled = await scheduler.shutdown()
            # Analytics saves its state before the other services are cancelled: a task
            # cancelled mid-transaction can leave SQLite's write lock held for a while.
            try:
                await analyzer.stop()
            except StorageError as error:
                # A busy or lost database must not turn a clean stop into a crash: the
                # state is rebuilt from stored history on the next start.
                log.error(
                    "analytics state not saved: %s",
                    error,
                    extra={"event": "analytics.save_failed"},
                )
            # Services watch `stop` and wind down by themselves (the journal flushes its last
            # rollups, the API closes its streams); only those that overstay are cancelled.
            await asyncio.wait(tasks, timeout=SERVICES_GRACE_S)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        log.info("stopped (%d run(s) cancelled)", cancelled, extra={"event": "daemon.stopped"})
        return EXIT_OK

    async def reload(self) -> bool:
        """Load the config again; apply it only if it has no problem at all."""
        assert self.scheduler is not None
        result = load(self.app.settings.config_path)
        self.reloads += 1
        if result.problems or not result.files:
            _log_problems(result, "reload refused, the last good config keeps running")
            return False
        now = self.app.clock.now()
        added, changed, removed = self.scheduler.set_workflows(result.workflows, now)
        await self.app.workflows.sync(result.workflows, now)
        self.config = result
        if self.alerting is not None:
            await self.alerting.reload(result)
        log.info(
            "config reloaded: %d added, %d changed, %d removed",
            len(added),
            len(changed),
            len(removed),
            extra={
                "event": "daemon.reloaded",
                "added": added,
                "changed": changed,
                "removed": removed,
            },
        )
        await self.bus.publish(
            Event("workflow.changed", {"added": added, "changed": changed, "removed": removed})
        )
        return True

    async def _watch(self) -> None:
        from watchfiles import awatch

        path = self.app.settings.config_path
        async for _changes in awatch(path, stop_event=self.stop, debounce=300):
            await self.reload()


def _health_options(spec: DaemonSpec, data_dir: Path) -> HealthOptions:
    return HealthOptions(
        interval_s=spec.health_interval,
        health_url=spec.health_url,
        data_dir=data_dir,
        disk_min_free_mb=spec.disk_min_free_mb,
        lag_warn_s=spec.lag_warn,
    )


def _log_problems(result: LoadResult, consequence: str) -> None:
    for problem in result.problems:
        log.error(
            "%s",
            problem,
            extra={
                "event": "config.problem",
                "file": problem.file,
                "line": problem.line,
                "path": problem.path,
            },
        )
    if result.problems:
        log.error(
            "%d config problem(s): %s",
            len(result.problems),
            consequence,
            extra={"event": "config.invalid"},
        )


@contextlib.contextmanager
def _signals(daemon: Daemon) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    added: list[signal.Signals] = []
    pending: set[asyncio.Task[bool]] = set()

    def reload() -> None:
        task = asyncio.ensure_future(daemon.reload())
        pending.add(task)  # keep a reference until it is done
        task.add_done_callback(pending.discard)

    for sig, handler in (
        (signal.SIGTERM, daemon.stop.set),
        (signal.SIGINT, daemon.stop.set),
        (signal.SIGHUP, reload),
    ):
        try:
            loop.add_signal_handler(sig, handler)
            added.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests), or Windows
            pass
    try:
        yield
    finally:
        for sig in added:
            loop.remove_signal_handler(sig)
