"""The Analyzer: keeps every workflow's baseline current as executions are recorded.

Wiring (the composition root): `analyzer = Analyzer(db, bus, clock)`, `await
analyzer.start()` before the scheduler runs (it loads the saved detector state, replays the
executions recorded since, or warms up from stored history on a first start, and subscribes
to `execution.finished`), and `await analyzer.stop()` on shutdown (saves the state).

Per execution: the detectors of its series are updated incrementally; an episode that opens
is stored and published as `anomaly.detected`, one that closes as `anomaly.resolved`; a
failure joins or opens an incident. Events carry
`{"workflow", "step", "series", "score", "reason", "at"}`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from wfmon.analytics.anomaly import DEFAULT_SENSITIVITY, threshold_for
from wfmon.analytics.baseline import Change, WorkflowBaseline
from wfmon.analytics.detectors import DEFAULT_DETECTOR
from wfmon.analytics.incidents import MIN_FAILURES, IncidentTracker
from wfmon.analytics.runs import RunFacts
from wfmon.analytics.signatures import failure_of
from wfmon.clock import Clock
from wfmon.domain.run import ExecutionResult
from wfmon.events import Event, EventBus
from wfmon.storage.analytics import AnalyticsRepository
from wfmon.storage.db import Database

log = logging.getLogger(__name__)

WARM_UP = timedelta(days=28)  # history replayed on a first start
SAVE_EVERY = 20  # runs of a workflow between state saves (a restart replays the rest)
SAVE_CHUNK = 250  # workflows' states per transaction when saving many


class Analyzer:
    def __init__(
        self,
        db: Database,
        bus: EventBus,
        clock: Clock,
        *,
        detector: str = DEFAULT_DETECTOR,
        sensitivity: float = DEFAULT_SENSITIVITY,
        save_every: int = SAVE_EVERY,
    ) -> None:
        self.repo = AnalyticsRepository(db)
        self.bus = bus
        self.clock = clock
        self.detector = detector
        self.threshold = threshold_for(sensitivity)
        self.save_every = save_every
        self.baselines: dict[str, WorkflowBaseline] = {}
        self.incidents = IncidentTracker()
        self._unsaved: dict[str, int] = {}

    async def start(self, *, subscribe: bool = True) -> int:
        """Resume (or warm up) from the database; returns how many runs were replayed."""
        for workflow, state in (await self.repo.load_states()).items():
            try:
                self.baselines[workflow] = WorkflowBaseline.from_state(state)
            except (KeyError, TypeError, ValueError):
                log.warning(
                    "discarding unreadable analytics state of %s",
                    workflow,
                    extra={"event": "analytics.state_discarded", "workflow": workflow},
                )
        now = self.clock.now()
        known = [b.last_at for b in self.baselines.values() if b.last_at is not None]
        since = now - WARM_UP
        if known:
            since = max(since, datetime.fromtimestamp(min(known), UTC))
        replayed = 0
        for run in await self.repo.runs(since=since):
            baseline = self.baselines.get(run.workflow)
            last = None if baseline is None else baseline.last_at
            if last is not None and run.at.timestamp() <= last:
                continue  # already in the saved state
            await self.observe(run, publish=False)
            replayed += 1
        await self.save()
        if subscribe:
            self.bus.subscribe(self.on_event, "execution.finished")
        log.info(
            "analytics ready: %d workflow(s), %d run(s) replayed",
            len(self.baselines),
            replayed,
            extra={"event": "analytics.started", "replayed": replayed},
        )
        return replayed

    async def stop(self) -> None:
        await self.save()

    async def on_event(self, event: Event) -> None:
        if isinstance(event.payload, ExecutionResult):
            await self.observe(RunFacts.from_result(event.payload))

    def baseline(self, workflow: str) -> WorkflowBaseline:
        baseline = self.baselines.get(workflow)
        if baseline is None:
            baseline = self.baselines[workflow] = WorkflowBaseline(
                workflow, self.detector, self.threshold
            )
        return baseline

    async def observe(self, run: RunFacts, *, publish: bool = True) -> list[Change]:
        """Update the workflow's detectors with one run; store and announce what changed."""
        changes = self.baseline(run.workflow).observe(run)
        if changes:
            await self.repo.record_changes(changes)
            if publish:
                for change in changes:
                    await self.bus.publish(_event(change))
        for incident in self.incidents.close_stale(run.at):
            if incident.failures >= MIN_FAILURES:
                await self.repo.record_incident(incident)
        failure = failure_of(run)
        if failure is not None:
            incident = self.incidents.observe(failure)
            if incident.failures >= MIN_FAILURES:
                await self.repo.record_incident(incident)
        count = self._unsaved[run.workflow] = self._unsaved.get(run.workflow, 0) + 1
        if count >= self.save_every:
            await self.save([run.workflow])
        return changes

    async def save(self, workflows: list[str] | None = None) -> None:
        """Save the detector state of `workflows` (default: those with unsaved runs, or all),
        `SAVE_CHUNK` workflows to a transaction: at 10,000 workflows the states as JSON
        documents all at once were about 75 MB on top of the daemon's memory."""
        names = workflows if workflows is not None else list(self._unsaved or self.baselines)
        for start in range(0, len(names), SAVE_CHUNK):
            states: dict[str, tuple[dict[str, Any], datetime | None]] = {}
            for name in names[start : start + SAVE_CHUNK]:
                baseline = self.baselines.get(name)
                if baseline is None:
                    continue
                last = baseline.last_at
                states[name] = (
                    baseline.state(),
                    None if last is None else datetime.fromtimestamp(last, UTC),
                )
                self._unsaved.pop(name, None)
            await self.repo.save_states(states, self.clock.now())


def _event(change: Change) -> Event:
    e = change.episode
    at = e.started_at if change.kind == "opened" else (e.ended_at or e.started_at)
    data = {
        "workflow": change.workflow,
        "step": change.step or None,
        "series": change.metric,
        "score": round(e.peak, 4),
        "reason": change.reason,
        "at": datetime.fromtimestamp(at, UTC).isoformat(),
    }
    kind = "anomaly.detected" if change.kind == "opened" else "anomaly.resolved"
    return Event(kind=kind, data=data, payload=change)
