"""Grouping: notices for one channel that share a group key within a window go out as one.

Like Alertmanager's `group_wait`: the first notice of a group opens a batch due `window`
later, and every notice for the same channel and key until then joins it, so 1,000
workflows failing against one host give one message, not 1,000. The price is that the
first notice waits for the window (30 s by default); `window: 0` sends each one at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from yarl import URL

from wfmon.config.templates import compile_template
from wfmon.domain.alert import Severity
from wfmon.domain.workflow import Workflow

WFMON = "wfmon"  # the group of alerts about wfmon itself


def target_host(workflow: Workflow) -> str | None:
    """The host the workflow's first step talks to (vars filled in), or None."""
    for step in workflow.steps:
        raw = getattr(step, "url", None) or getattr(step, "host", None)
        if not isinstance(raw, str):
            continue
        try:
            text = str(compile_template(raw).render({"vars": dict(workflow.vars)}))
        except Exception:  # ${env:...} or step outputs: not knowable before a run
            return None
        host = URL(text).host if "://" in text else text.split(":")[0]
        return host or None
    return None


def group_key(
    by: str, workflow: Workflow | None, rule: str, severity: Severity, explicit: str | None
) -> str:
    """The key alerts are grouped by: `alerts.grouping.by`, or the workflow's own."""
    if explicit:
        return explicit
    if workflow is None:
        return WFMON
    if by == "host":
        return target_host(workflow) or workflow.name
    if by == "workflow":
        return workflow.name
    if by == "rule":
        return rule
    if by == "severity":
        return severity.value
    return "all"


@dataclass
class Batches:
    """Open batches by (channel, group key) -> due time, for one planning pass. Seeded from
    the outbox's pending rows, so notices planned a moment ago are joined too."""

    window_s: float
    open: dict[tuple[str, str], datetime] = field(default_factory=dict)

    @classmethod
    def seeded(cls, window_s: float, pending: Mapping[tuple[str, str], Any]) -> Batches:
        return cls(window_s, dict(pending))

    def due(self, channel: str, group: str, now: datetime) -> tuple[datetime, str]:
        """When a new notice for (channel, group) goes out, and why."""
        if self.window_s <= 0:
            return now, "grouping_off"
        current = self.open.get((channel, group))
        if current is not None and current > now:
            return current, "joined_group"
        due = now + timedelta(seconds=self.window_s)
        self.open[(channel, group)] = due
        return due, "opened_group"
