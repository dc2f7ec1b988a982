"""The alert service: turns recorded executions, analytics events and the passing of time
into alert changes, each batch written in one transaction with its outbox rows.

It only does I/O: reading facts (`storage.alert_facts`), the current alerts and silences,
and writing what the pure planner (`evaluate`, `pipeline`) decided. Executions are queued
by the bus subscriber and judged by the service's own loop, coalesced per subject: facts
come from storage, so ten runs of one workflow recorded at once are judged once, and a
run whose event was lost (a crash) is covered by the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from wfmon.alerts import deadman, evaluate, slotwatch
from wfmon.alerts.changes import Change, Conflict
from wfmon.alerts.evaluate import Known
from wfmon.alerts.facts import Finding
from wfmon.alerts.grouping import Batches
from wfmon.alerts.setup import AlertingConfig
from wfmon.clock import Clock, sleep_or_event
from wfmon.domain.alert import Verdict
from wfmon.domain.workflow import Workflow
from wfmon.errors import StorageError
from wfmon.events import Event, EventBus
from wfmon.storage import AlertRepository, Database, OutboxRepository, SilenceRepository
from wfmon.storage.alert_facts import AlertFactsRepository

log = logging.getLogger(__name__)

Subject = tuple[str, str | None]  # (workflow, location when alerts are per location)
Findings = list[tuple[Workflow | None, str | None, str, Finding]]
CONFLICT_RETRIES = 5


class AlertService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        config: AlertingConfig,
        started_at: datetime | None = None,
        on_outbox: Callable[[], None] | None = None,
        bus: EventBus | None = None,
        tick_s: float = 10.0,
        batch_size: int = 250,
        coalesce_s: float = 1.0,
    ) -> None:
        self._clock = clock
        self.config = config
        self.started_at = started_at or clock.now()
        self._on_outbox = on_outbox
        self._bus = bus
        self.tick_s = tick_s
        self._batch_size = batch_size
        # Runs recorded within this of the first one waiting are judged in one pass: a pass
        # costs a few queries whether it judges one subject or hundreds.
        self.coalesce_s = coalesce_s
        self._since = 0.0  # monotonic time the oldest queued work arrived
        self._alerts = AlertRepository(db)
        self._facts = AlertFactsRepository(db)
        self._silences = SilenceRepository(db)
        self._outbox = OutboxRepository(db)
        self._pending: dict[Subject, None] = {}  # an ordered set
        # The dead man's switch's memory: see alerts/slotwatch.py.
        self._last_slots = slotwatch.LastSlots()
        self._due = slotwatch.DueSlots()
        self._checks: list[slotwatch.SlotCheck] | None = None  # of the current config
        self._known_since: dict[str, datetime] = {}  # when each workflow was first stored
        self._anomalies: list[tuple[str, dict[str, Any]]] = []
        self.kick = asyncio.Event()

    def configure(self, config: AlertingConfig) -> None:
        """A reloaded config: new rules apply from the next evaluation."""
        self.config = config
        self._checks = None
        self._last_slots.keep_only((w.name, loc) for w in config.workflows for loc in w.locations)

    async def sync_silences(self) -> None:
        await self._silences.sync_config(self.config.silences, self._clock.now())

    # -- input ----------------------------------------------------------------------------

    async def on_event(self, event: Event) -> None:
        """The bus subscriber: queue the subject and return at once (the scheduler waits)."""
        if not self.busy:
            self._since = self._clock.monotonic()
        if event.kind == "execution.finished":
            workflow = self.config.workflow(str(event.data.get("workflow")))
            if workflow is None:
                return
            where = str(event.data.get("location"))
            slot = _slot_of(event)
            if slot is not None and event.data.get("status") != "missed":
                self._last_slots.saw((workflow.name, where), slot)
            self._pending[(workflow.name, evaluate.subject_location(workflow, where))] = None
        elif event.kind in ("anomaly.detected", "anomaly.resolved"):
            self._anomalies.append((event.kind, dict(event.data)))
        else:
            return
        self.kick.set()

    def enqueue_all(self) -> None:
        """Judge every configured workflow on the next pass: on start, so runs recorded
        while no service listened (a crash, a stop in the middle of a burst) are judged
        without waiting for the workflow's next run."""
        for workflow in self.config.workflows:
            if not workflow.enabled:
                continue
            for location in workflow.locations:
                self._pending[(workflow.name, evaluate.subject_location(workflow, location))] = None
        self.kick.set()

    @property
    def busy(self) -> bool:
        return bool(self._pending or self._anomalies)

    # -- work -----------------------------------------------------------------------------

    async def process(self) -> int:
        """Judge every queued subject and analytics event; returns the changes written."""
        subjects, self._pending = list(self._pending), {}
        anomalies, self._anomalies = self._anomalies, []
        written = 0
        try:
            for start in range(0, len(subjects), self._batch_size):
                chunk = subjects[start : start + self._batch_size]
                written += await self._retrying(lambda c=chunk: self._judge_runs(c))  # type: ignore[misc]
            if anomalies:
                written += await self._retrying(lambda: self._judge_anomalies(anomalies))
        except BaseException:
            # Not lost: judged again on the next pass (facts are in storage).
            for subject in subjects:
                self._pending.setdefault(subject, None)
            self._anomalies[:0] = anomalies
            raise
        return written

    async def tick(self) -> int:
        """The periodic check: dead man's switches, quiet anomalies, held notices whose
        hold ended, reminders. Returns the changes written."""
        return await self._retrying(self._judge_time)

    async def run_forever(self, stop: asyncio.Event) -> None:
        self.enqueue_all()
        next_tick = self._clock.now()
        failures = 0
        while not stop.is_set():
            self.kick.clear()
            try:
                if self.busy:
                    wait = self._since + self.coalesce_s - self._clock.monotonic()
                    if wait > 0:
                        await sleep_or_event(self._clock, wait, stop)
                    await self.process()
                if self._clock.now() >= next_tick:
                    await self.tick()
                    next_tick = self._clock.now() + timedelta(seconds=self.tick_s)
                failures = 0
            except StorageError as error:
                failures += 1
                log.error(
                    "alert evaluation failed, retrying: %s",
                    error,
                    extra={"event": "alerts.storage_failed"},
                )
            except Exception:
                failures += 1
                log.exception("alert evaluation failed", extra={"event": "alerts.failed"})
            if self.busy and not failures:
                continue
            delay = (next_tick - self._clock.now()).total_seconds()
            delay = min(max(delay, 0.0), self.tick_s) if not failures else min(2.0**failures, 60)
            await sleep_or_event(self._clock, delay, stop, self.kick)

    # -- the three kinds of judgement ------------------------------------------------------

    async def _judge_runs(self, subjects: Sequence[Subject]) -> int:
        now = self._clock.now()
        spec = self.config.spec
        wanted = []
        for name, location in subjects:
            workflow = self.config.workflow(name)
            if workflow is None:
                continue
            needs = evaluate.needs_for(spec, evaluate.execution_rules(spec, workflow))
            wanted.append((workflow, location, needs))
        facts = await self._facts.subjects(wanted, now)
        keys = [k for w, loc, _ in wanted for k in evaluate.subject_keys(spec, w, loc)]
        known = await self._known(keys, now)
        policy = self.config.policy
        changes = [c for f in facts for c in evaluate.plan_runs(spec, policy, f, known, now)]
        return await self._apply(changes)

    async def _judge_anomalies(self, events: Sequence[tuple[str, dict[str, Any]]]) -> int:
        now = self._clock.now()
        spec = self.config.spec
        found: Findings = []
        for kind, data in events:
            workflow = self.config.workflow(str(data.get("workflow")))
            rule = evaluate.anomaly_rule(spec, workflow) if workflow is not None else None
            if workflow is None or rule is None:
                continue  # not configured, or anomaly alerts switched off for it
            key = evaluate.anomaly_key(rule, workflow.name, data.get("step"), data.get("series"))
            if kind == "anomaly.resolved":
                finding = Finding(
                    rule.key, rule.kind, rule.severity, Verdict.OK, "anomaly_resolved", "resolved"
                )
            else:
                finding = deadman.anomaly_detected(rule, data)
                seen = str(data.get("at") or now.isoformat())
                finding = _with_facts(finding, last_seen=seen)
            found.append((workflow, None, key, finding))
        known = await self._known([key for *_, key, _ in found], now)
        changes = evaluate.plan_tick(spec, self.config.policy, found, [], known, now)
        return await self._apply(changes)

    async def _judge_time(self) -> int:
        now = self._clock.now()
        spec = self.config.spec
        attention = await self._alerts.needing_attention()
        findings = await self._no_executions(attention, now)
        findings += evaluate.heartbeat_findings(
            spec, await self._facts.last_heartbeat(), now, self.config.health_interval_s
        )
        findings += self._quiet_anomalies(attention, now)
        findings += evaluate.orphan_findings(spec, self.config.workflows, attention)
        keys = [key for *_, key, _ in findings] + [a.dedup_key for a in attention]
        known = await self._known(keys, now)
        changes = evaluate.plan_tick(spec, self.config.policy, findings, attention, known, now)
        return await self._apply(changes)

    async def _no_executions(self, attention: Sequence[Any], now: datetime) -> Findings:
        """The dead man's switches that can change something now: those that look overdue
        from memory (read again from the database first: another daemon, or this one
        before a restart, may have run the slot) and those with an open alert. A check
        whose due slot ran, with no alert open, is OK and has nothing to change."""
        if self._checks is None:
            self._checks = slotwatch.slot_checks(self.config.spec, self.config.workflows)
            self._due.keep_only(c.key for c in self._checks)
        checks = self._checks
        known_since = await self._first_seen({c.workflow.name for c in checks})
        open_keys = [a.dedup_key for a in attention if a.is_open]
        candidates = slotwatch.overdue(
            checks,
            self._due,
            self._last_slots,
            now,
            started_at=self.started_at,
            known_since=known_since,
            open_keys=open_keys,
        )
        unsure = slotwatch.unsure(candidates, self._due, self._last_slots, now)
        if unsure:
            self._last_slots.merge(await self._facts.last_slots(unsure))
        return evaluate.no_execution_findings(
            candidates, self._last_slots.as_mapping(), known_since, self.started_at, now
        )

    async def _first_seen(self, names: set[str]) -> dict[str, datetime]:
        """When each workflow was first stored: it never changes once stored, so only the
        names not seen before are read."""
        missing = [n for n in names if n not in self._known_since]
        if missing:
            self._known_since.update(await self._facts.known_since(missing))
        return self._known_since

    def _quiet_anomalies(self, attention: Sequence[Any], now: datetime) -> Findings:
        out: Findings = []
        for alert in attention:
            if alert.kind != "anomaly" or not alert.is_open or alert.workflow is None:
                continue
            workflow = self.config.workflow(alert.workflow)
            rule = (
                evaluate.anomaly_rule(self.config.spec, workflow, alert.rule) if workflow else None
            )
            seen = _time(alert.details.get("last_seen")) or alert.changed_at
            if rule is not None:
                out.append(
                    (workflow, None, alert.dedup_key, deadman.anomaly_quiet(rule, seen, now))
                )
        return out

    # -- helpers --------------------------------------------------------------------------

    async def _known(self, keys: Sequence[str], now: datetime) -> Known:
        alerts = await self._alerts.latest(keys)
        followers = await self._alerts.followers([a.id for a in alerts.values()])
        silences = await self._silences.list()
        window = self.config.spec.grouping.window
        batches = Batches.seeded(window, await self._outbox.open_groups(now))
        return Known(alerts, followers, silences, batches)

    async def _apply(self, changes: Sequence[Change]) -> int:
        if not changes:
            return 0
        written = await self._alerts.apply(changes)
        for change, (alert_id, event_id) in zip(changes, written, strict=True):
            if change.event is None:
                continue
            _log_event(change, alert_id)
            if self._bus is not None:
                await self._bus.publish(_changed(change, alert_id, event_id))
        if any(c.outbox for c in changes) and self._on_outbox is not None:
            self._on_outbox()
        return len(changes)

    async def _retrying(self, work: Callable[[], Awaitable[int]]) -> int:
        # Another writer (a second daemon, the CLI) moved an alert on between our read
        # and write: read again and plan again.
        for attempt in range(CONFLICT_RETRIES):
            try:
                return await work()
            except Conflict as conflict:
                if attempt == CONFLICT_RETRIES - 1:
                    raise
                log.info("re-planning: %s", conflict, extra={"event": "alerts.conflict"})
        raise AssertionError("unreachable")


def _log_event(change: Change, alert_id: int) -> None:
    event = change.event
    assert event is not None
    key = change.new.dedup_key if change.new is not None else f"alert {alert_id}"
    held = event.data.get("held_by")
    log.info(
        "%s %s: %s%s",
        event.kind.value,
        key,
        event.message,
        f" (notice held by {held})" if held else "",
        extra={
            "event": f"alerts.{event.kind.value}",
            "reason": event.reason,
            "notifications": len(change.outbox),
            "alert_id": alert_id,
        },
    )


def _changed(change: Change, alert_id: int, event_id: int | None) -> Event:
    """`alert.changed` for live views (the API's SSE stream, the dashboard)."""
    event = change.event
    assert event is not None
    return Event(
        "alert.changed",
        {
            "alert_id": alert_id,
            "event_id": event_id,
            "kind": event.kind.value,
            "from": event.from_state.value if event.from_state else None,
            "to": event.to_state.value,
            "reason": event.reason,
            "message": event.message,
            "actor": event.actor,
            "at": event.at.isoformat(),
            "notified": bool(change.outbox),
        },
    )


def _with_facts(finding: Finding, **facts: Any) -> Finding:
    return replace(finding, facts={**finding.facts, **facts})


def _slot_of(event: Event) -> datetime | None:
    slot = getattr(event.payload, "slot_at", None)
    if isinstance(slot, datetime):
        return slot
    return _time(event.data.get("slot_at"))


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
