"""The planner: findings and operator actions → `Change`s (pure).

One place strings the stages together (lifecycle → hold → routing → grouping) so the
service, the periodic check and the CLI cannot disagree on what an event means:

* `plan_finding`: a rule's finding on a subject (from an execution, a tick or analytics);
* `plan_action`: acknowledge or resolve by a person;
* `plan_periodic`: held notices released, reminders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wfmon.alerts import lifecycle, notices
from wfmon.alerts.changes import Change, EventDraft, NewAlert, OutboxDraft
from wfmon.alerts.facts import Finding
from wfmon.alerts.grouping import Batches
from wfmon.alerts.lifecycle import Transition
from wfmon.alerts.notices import Notice
from wfmon.alerts.notifiers import ChannelBase
from wfmon.domain.alert import SYSTEM, Alert, AlertState, EventKind, Severity, Verdict


@dataclass(frozen=True)
class Policy:
    reopen_within_s: float = 1800.0
    remind_every_s: float = 14400.0
    dashboard_url: str = "http://127.0.0.1:8080"
    channels: tuple[ChannelBase, ...] = ()


@dataclass(frozen=True)
class Subject:
    """What an alert is about, and the group its notices go out with."""

    workflow: str | None
    location: str | None
    group_key: str
    tags: tuple[str, ...] = field(default_factory=tuple)


def plan_finding(
    policy: Policy,
    subject: Subject,
    key: str,
    finding: Finding,
    alert: Alert | None,
    *,
    held_by: str | None,
    followers: Sequence[str],
    batches: Batches,
    now: datetime,
) -> Change | None:
    """The change a finding makes to its alert (None: nothing to write)."""
    step = lifecycle.on_finding(alert, finding, now, policy.reopen_within_s)
    details = {**finding.facts, **_link(policy, finding.facts)}
    if step.event is None:
        fresh = alert is not None and (alert.summary, alert.details) != (finding.message, details)
        if fresh and alert is not None and alert.is_open and finding.verdict is Verdict.FAILING:
            # Fresh facts for reminders and the dashboard; not an event of its own.
            fresh_values = {"summary": finding.message, "details": details}
            return Change(alert.id, alert.version, values=fresh_values)
        return None
    new = None
    if step.new_episode:
        new = NewAlert(
            dedup_key=key,
            episode=alert.episode + 1 if alert is not None else 1,
            rule=finding.rule,
            kind=finding.kind,
            severity=finding.severity,
            summary=finding.message,
            workflow=subject.workflow,
            location=subject.location,
            group_key=subject.group_key,
            tags=subject.tags,
            details=details,
            opened_at=now,
        )
    before = None if step.new_episode else alert
    notice = notices.on_event(step.event, before, held_by)
    # Tags follow the config (silences and routing match on them), unless the workflow left it.
    values: dict[str, Any] = {"tags": list(subject.tags)} if subject.workflow else {}
    if finding.verdict is Verdict.FAILING:
        values.update(summary=finding.message, details=details)
    return _change(
        policy,
        before,
        new,
        step,
        notice,
        actor=SYSTEM,
        message=finding.message,
        execution_ids=finding.execution_ids,
        data=details,
        values=values,
        followers=followers,
        batches=batches,
        now=now,
    )


def plan_action(
    policy: Policy,
    alert: Alert,
    action: str,
    *,
    actor: str,
    note: str | None,
    held_by: str | None,
    followers: Sequence[str],
    batches: Batches,
    now: datetime,
) -> tuple[Change | None, Transition]:
    """`acknowledge` or `resolve` by `actor`; the transition says why nothing changed."""
    step = lifecycle.acknowledge(alert) if action == "acknowledge" else lifecycle.resolve(alert)
    if step.event is None:
        return None, step
    notice = notices.on_event(step.event, alert, held_by)
    verb = "acknowledged" if action == "acknowledge" else "resolved"
    message = f"{verb} by {actor}" + (f": {note}" if note else "")
    change = _change(
        policy,
        alert,
        None,
        step,
        notice,
        actor=actor,
        message=message,
        note=note,
        data=dict(alert.details),
        followers=followers,
        batches=batches,
        now=now,
    )
    return change, step


def plan_periodic(
    policy: Policy,
    alert: Alert,
    *,
    held_by: str | None,
    followers: Sequence[str],
    batches: Batches,
    now: datetime,
) -> Change | None:
    """A held notice released once nothing holds it, else a reminder if one is due."""
    notice = notices.catch_up(alert, held_by)
    kind = EventKind.RELEASED
    if not notice.send:
        notice = notices.reminder(alert, held_by, now, policy.remind_every_s)
        kind = EventKind.REMINDER
    if not notice.send:
        if notice.held_by and notice.held_by != alert.muted_by:
            return Change(alert.id, alert.version, values={"muted_by": notice.held_by})
        return None
    step = Transition(kind, alert.state, notice.reason)
    if kind is EventKind.RELEASED:
        message = (
            f"still {alert.state.value} after the {_hold_words(alert.muted_by)}: {alert.summary}"
            if alert.is_open
            else f"resolved during the {_hold_words(alert.muted_by)}"
        )
    else:
        message = f"still firing, not acknowledged: {alert.summary}"
    return _change(
        policy,
        alert,
        None,
        step,
        notice,
        actor=SYSTEM,
        message=message,
        data=dict(alert.details),
        followers=followers,
        batches=batches,
        now=now,
    )


def _change(
    policy: Policy,
    alert: Alert | None,
    new: NewAlert | None,
    step: Transition,
    notice: Notice,
    *,
    actor: str,
    message: str,
    data: Mapping[str, Any],
    followers: Sequence[str],
    batches: Batches,
    now: datetime,
    execution_ids: tuple[int, ...] = (),
    note: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> Change:
    assert step.event is not None
    assert step.to_state is not None
    assert (alert is None) != (new is None)
    severity = new.severity if new is not None else alert.severity  # type: ignore[union-attr]
    tags = new.tags if new is not None else alert.tags  # type: ignore[union-attr]
    group = new.group_key if new is not None else alert.group_key  # type: ignore[union-attr]
    out: dict[str, Any] = dict(values or {})
    from_state = None if alert is None else alert.state
    if step.to_state is not from_state:
        out.update(state=step.to_state.value, changed_at=now)
        if step.event is EventKind.ACKNOWLEDGED:
            out["acknowledged_by"] = actor
        elif step.event is EventKind.RESOLVED:
            out["resolved_by"] = actor
        elif step.event is EventKind.REOPENED:
            out.update(acknowledged_by=None, resolved_by=None)
    outbox: tuple[OutboxDraft, ...] = ()
    event_data = {**data, "notified": notice.send, "held_by": notice.held_by}
    if notice.send:
        channels = _audience(policy, notice, severity, tags, followers)
        outbox = tuple(
            OutboxDraft(name, group, batches.due(name, group, now)[0]) for name in channels
        )
        told = AlertState.FIRING if step.to_state.is_open else AlertState.RESOLVED
        out.update(notified_state=told.value, notified_at=now, muted_by=None)
        event_data["channels"] = list(channels)
    elif notice.held_by:
        out["muted_by"] = notice.held_by
    event = EventDraft(
        kind=step.event,
        actor=actor,
        from_state=from_state,
        to_state=step.to_state,
        reason=step.reason if step.event is not EventKind.RELEASED else notice.reason,
        message=message,
        at=now,
        execution_ids=execution_ids,
        note=note,
        data=event_data,
    )
    if new is not None:
        return Change(new=new, values=out, event=event, outbox=outbox)
    assert alert is not None
    return Change(alert.id, alert.version, values=out, event=event, outbox=outbox)


def _audience(
    policy: Policy,
    notice: Notice,
    severity: Severity,
    tags: Sequence[str],
    followers: Sequence[str],
) -> tuple[str, ...]:
    if notice.audience == "followers":
        return tuple(dict.fromkeys(followers))
    return tuple(c.name for c in policy.channels if c.routes(severity, tags))


def _link(policy: Policy, facts: Mapping[str, Any]) -> dict[str, Any]:
    execution_id = facts.get("execution_id")
    if execution_id is None:
        return {}
    return {"url": f"{policy.dashboard_url.rstrip('/')}/executions/{execution_id}"}


def _hold_words(muted_by: str | None) -> str:
    if muted_by == notices.FLAPPING:
        return "flapping settled"
    return "silence" if muted_by else "hold"
