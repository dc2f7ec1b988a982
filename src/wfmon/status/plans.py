"""How each workflow is scheduled, read back from the database or taken from the config.

`wfmon status` and the reports must work with the database alone (the daemon may run on
another host, with its config there), so the stored workflow definition is the usual
source; a config given on the command line wins, since it carries the defaults (locations,
jitter) that the stored definition, written as in YAML, leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from wfmon.config.base import parse_duration
from wfmon.config.schema import ScheduleSpec
from wfmon.domain.workflow import Schedule, Workflow
from wfmon.scheduler.cron import jitter_offset, next_slot, start_at
from wfmon.scheduler.describe import describe_schedule
from wfmon.storage.records import WorkflowRecord

# `Schedule.describe()`, which is what the `workflows.schedule` column holds.
_EVERY_TEXT = re.compile(r"^every ([0-9.e+]+)s$")
_CRON_TEXT = re.compile(r"^cron (.+) \((.+)\)$")


@dataclass(frozen=True)
class WorkflowPlan:
    """A workflow's schedule and where it runs; `schedule` None when it cannot be read."""

    name: str
    schedule: Schedule | None
    locations: tuple[str, ...] = ("local",)
    enabled: bool = True
    jitter_s: float = 0.0
    created_at: datetime | None = None  # when the database first saw it; None: not yet

    @property
    def words(self) -> str:
        """The schedule in words: "every 15 minutes"."""
        if self.schedule is None:
            return "unknown schedule"
        return describe_schedule(self.schedule)

    def next_run(self, now: datetime) -> datetime | None:
        """When the next slot after `now` should start, its jitter included."""
        if self.schedule is None or not self.enabled:
            return None
        try:
            slot = next_slot(self.schedule, now)
        except ValueError:
            return None
        return start_at(slot, jitter_offset(self.name, self.jitter_s))


def plan_from_workflow(workflow: Workflow, created_at: datetime | None = None) -> WorkflowPlan:
    return WorkflowPlan(
        name=workflow.name,
        schedule=workflow.schedule,
        locations=workflow.locations,
        enabled=workflow.enabled,
        jitter_s=workflow.jitter_s,
        created_at=created_at,
    )


def plan_from_record(record: WorkflowRecord, seen_locations: Collection[str] = ()) -> WorkflowPlan:
    """The plan as stored. Locations come from the definition, else from the executions
    seen (defaults are not stored with a workflow), else the default `local`."""
    definition = record.definition
    locations = _locations(definition.get("locations")) or tuple(sorted(seen_locations))
    return WorkflowPlan(
        name=record.name,
        schedule=schedule_from_definition(definition, record.schedule),
        locations=locations or ("local",),
        enabled=record.enabled,
        jitter_s=_seconds(definition.get("jitter")),
        created_at=record.created_at,
    )


def schedule_from_definition(definition: Mapping[str, Any], text: str = "") -> Schedule | None:
    """The schedule as written in YAML (`"*/15 * * * *"` or a mapping), else parsed from
    the stored description (`every 300s`, `cron */15 * * * * (UTC)`), else None."""
    value = definition.get("schedule")
    if isinstance(value, str):
        value = {"cron": value}
    if isinstance(value, Mapping):
        try:
            spec = ScheduleSpec.model_validate(dict(value))
        except ValidationError:
            pass
        else:
            return Schedule(cron=spec.cron, every_s=spec.every, timezone=spec.timezone)
    if match := _EVERY_TEXT.match(text):
        try:
            return Schedule(every_s=float(match.group(1)))
        except ValueError:
            return None
    if match := _CRON_TEXT.match(text):
        return Schedule(cron=match.group(1), timezone=match.group(2))
    return None


def _locations(value: Any) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return ()


def _seconds(value: Any) -> float:
    if value is None:
        return 0.0
    try:
        return parse_duration(value)
    except ValueError:
        return 0.0


def plans_for(
    records: Sequence[WorkflowRecord],
    seen: Mapping[tuple[str, str], object],
    configured: Sequence[Workflow] | None = None,
) -> dict[str, WorkflowPlan]:
    """Each workflow's plan by name: from `configured` when given (with the time the
    database first saw each), else from the stored `records`. `seen` is keyed by the
    (workflow, location) pairs that have executions, e.g. `ExecutionRepository.last_slots()`.
    """
    if configured is not None:
        created = {r.name: r.created_at for r in records}
        return {w.name: plan_from_workflow(w, created.get(w.name)) for w in configured}
    locations: dict[str, set[str]] = {}
    for name, location in seen:
        locations.setdefault(name, set()).add(location)
    return {r.name: plan_from_record(r, locations.get(r.name, ())) for r in records}
