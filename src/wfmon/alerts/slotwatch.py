"""What the dead man's switch (`no_executions`) needs each tick, kept in memory.

The rule asks, for every workflow (per location when it runs in several), whether the slot
due `grace` + jitter + timeout ago has an execution that ran or is running (not `missed`).
Asking the database that for 10,000 workflows every 10 s cost more than the scheduler itself,
so the service keeps:

* `LastSlots`: the latest such slot per (workflow, location) it knows of, fed by the
  `execution.finished` events this process publishes and by every database read it makes;
* `DueSlots`: the slot each check needs, recomputed only when the next one comes due (a
  cron walk per workflow per tick was most of the rest).

Memory only ever says "this slot ran" for slots that did, so it can clear a check but never
fire one: a check that looks overdue from memory is read from the database before it is
judged, so runs by another daemon on the same database (or by this one before a restart)
count before an alert fires.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from wfmon.alerts.config import AlertsSpec, rules_for
from wfmon.alerts.facts import subject_key
from wfmon.alerts.rulespecs import NoExecutions
from wfmon.domain.workflow import Workflow
from wfmon.scheduler.cron import due_slots, latest_slot, next_slot

Pair = tuple[str, str]  # (workflow, location): what executions are stored under


@dataclass(frozen=True)
class SlotCheck:
    """One `no_executions` subject: its alert's dedup key and the (workflow, location)
    pairs whose executions count for it (one, or every location when alerts are not per
    location)."""

    workflow: Workflow
    rule: NoExecutions
    location: str | None
    key: str
    pairs: tuple[Pair, ...]

    @property
    def grace_s(self) -> float:
        return self.rule.grace + self.workflow.jitter_s + self.workflow.timeout_s


def slot_checks(spec: AlertsSpec, workflows: Iterable[Workflow]) -> list[SlotCheck]:
    """Every dead man's switch of a config (enabled workflows, their `no_executions` rules)."""
    out: list[SlotCheck] = []
    for workflow in workflows:
        if not workflow.enabled:
            continue
        for rule in rules_for(spec, workflow):
            if not isinstance(rule, NoExecutions):
                continue
            if len(workflow.locations) > 1:
                for location in workflow.locations:
                    key = subject_key(rule.key, workflow.name, location)
                    pair = (workflow.name, location)
                    out.append(SlotCheck(workflow, rule, location, key, (pair,)))
            else:
                pairs = tuple((workflow.name, loc) for loc in workflow.locations)
                key = subject_key(rule.key, workflow.name)
                out.append(SlotCheck(workflow, rule, None, key, pairs))
    return out


class LastSlots:
    """The latest slot with an execution (running or finished, not missed) per
    (workflow, location), as far as this process has seen."""

    def __init__(self) -> None:
        self._latest: dict[Pair, datetime] = {}

    def __len__(self) -> int:
        return len(self._latest)

    def saw(self, pair: Pair, slot: datetime) -> None:
        known = self._latest.get(pair)
        if known is None or slot > known:
            self._latest[pair] = slot

    def merge(self, found: Mapping[Pair, datetime]) -> None:
        for pair, slot in found.items():
            self.saw(pair, slot)

    def as_mapping(self) -> Mapping[Pair, datetime]:
        return self._latest

    def latest(self, pairs: Iterable[Pair]) -> datetime | None:
        get = self._latest.get
        return max((s for s in map(get, pairs) if s is not None), default=None)

    def keep_only(self, pairs: Iterable[Pair]) -> None:
        """Forget pairs no longer configured (the map stays the size of the config)."""
        wanted = set(pairs)
        for pair in [p for p in self._latest if p not in wanted]:
            del self._latest[pair]


class DueSlots:
    """The slot a check needs an execution for at `now`: the latest slot at or before
    `now - grace`. Cached per check until the next slot comes due, and moved on from the
    cached one (a short walk) rather than searched for from scratch."""

    def __init__(self) -> None:
        # key -> (the check, its due slot, the slot after it): valid for that check object
        # (a reloaded config brings new ones) while due <= now - grace < next.
        self._cache: dict[str, tuple[SlotCheck, datetime, datetime]] = {}

    def due(self, check: SlotCheck, now: datetime) -> datetime | None:
        at = now - timedelta(seconds=check.grace_s)
        cached = self._cache.get(check.key)
        if cached is not None and cached[0] is not check:
            cached = None  # another config's check: its schedule may differ
        if cached is not None and cached[1] <= at < cached[2]:
            return cached[1]
        schedule = check.workflow.schedule
        due_at: datetime | None
        if cached is not None and cached[1] <= at:
            moved = due_slots(schedule, cached[1], at, limit=1)  # forward from the last one
            due_at = moved[0] if moved else cached[1]
        else:
            due_at = latest_slot(schedule, at)  # first time, or the clock went back
        if due_at is None:
            self._cache.pop(check.key, None)
            return None
        self._cache[check.key] = (check, due_at, next_slot(schedule, due_at))
        return due_at

    def keep_only(self, keys: Iterable[str]) -> None:
        wanted = set(keys)
        for key in [k for k in self._cache if k not in wanted]:
            del self._cache[key]


def overdue(
    checks: Sequence[SlotCheck],
    due: DueSlots,
    last: LastSlots,
    now: datetime,
    *,
    started_at: datetime,
    known_since: Mapping[str, datetime],
    open_keys: Iterable[str] = (),
) -> list[SlotCheck]:
    """The checks worth judging now: those whose due slot memory has no execution for
    (maybe overdue: read them from the database), and those with an open alert (a slot that
    ran resolves it). The rest would be judged OK, or not judged yet, with no alert to
    change: nothing to do.

    Not judged yet, as in `deadman.no_executions`: within the check's grace of the
    service's start (the scheduler is catching up), and slots from before the workflow was
    first seen (`known_since`)."""
    opened = set(open_keys)
    out: list[SlotCheck] = []
    for check in checks:
        if check.key in opened:
            out.append(check)
            continue
        if now - started_at < timedelta(seconds=check.grace_s):
            continue
        slot = due.due(check, now)
        since = known_since.get(check.workflow.name)
        if slot is None or since is None or slot <= since:
            continue
        seen = last.latest(check.pairs)
        if seen is None or seen < slot:
            out.append(check)
    return out


def unsure(
    checks: Iterable[SlotCheck], due: DueSlots, last: LastSlots, now: datetime
) -> list[Pair]:
    """The pairs to read from the database before judging `checks`: those of checks whose
    due slot memory has no execution for."""
    out: dict[Pair, None] = {}
    for check in checks:
        slot = due.due(check, now)
        seen = last.latest(check.pairs)
        if slot is not None and (seen is None or seen < slot):
            out.update(dict.fromkeys(check.pairs))
    return list(out)
