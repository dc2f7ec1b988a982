"""What one subject's facts, or one tick of the clock, change (pure).

`plan_runs` judges a subject after its executions (flapping first, since it holds the
other alerts' notices), `plan_tick` the time-driven rules (dead man's switch, heartbeat,
quiet anomalies) and then every alert whose receivers are behind (released notices,
reminders). Both return `Change`s for the service to write in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from wfmon.alerts import deadman, flapping, notices, rules, slotwatch
from wfmon.alerts.changes import Change
from wfmon.alerts.config import AlertsSpec, rules_for, workflow_alerts
from wfmon.alerts.facts import Finding, Needs, SubjectFacts, subject_key
from wfmon.alerts.grouping import Batches, group_key
from wfmon.alerts.pipeline import Policy, Subject, plan_finding, plan_periodic
from wfmon.alerts.rulespecs import EXECUTION_KINDS, Anomaly, RuleBase
from wfmon.domain.alert import Alert, Silence, Verdict
from wfmon.domain.workflow import Workflow


@dataclass(frozen=True)
class Known:
    """What the planner knows besides a subject's runs: the current episode of each dedup
    key, the channels each alert was notified on, the silences, the open batches."""

    alerts: Mapping[str, Alert]
    followers: Mapping[int, tuple[str, ...]]
    silences: Sequence[Silence]
    batches: Batches


def execution_rules(spec: AlertsSpec, workflow: Workflow) -> tuple[RuleBase, ...]:
    return tuple(r for r in rules_for(spec, workflow) if getattr(r, "kind", "") in EXECUTION_KINDS)


def subject_location(workflow: Workflow, location: str) -> str | None:
    """Alerts are per location only for workflows that run in several."""
    return location if len(workflow.locations) > 1 else None


def subject_keys(spec: AlertsSpec, workflow: Workflow, location: str | None) -> list[str]:
    names = [flapping.RULE, *(r.key for r in rules_for(spec, workflow))]
    return [subject_key(name, workflow.name, location) for name in names]


def plan_runs(
    spec: AlertsSpec, policy: Policy, facts: SubjectFacts, known: Known, now: datetime
) -> list[Change]:
    workflow, location = facts.workflow, facts.location
    changes: list[Change] = []
    key = subject_key(flapping.RULE, workflow.name, location)
    flap = known.alerts.get(key)
    is_flapping = flap is not None and flap.is_open
    if spec.flapping.enabled:
        finding = flapping.judge(spec.flapping, facts.runs, now, is_open=is_flapping)
        change = _plan(spec, policy, workflow, location, key, finding, known, now, False)
        if change is not None:
            changes.append(change)
            state = change.values.get("state")
            is_flapping = is_flapping if state is None else state != "resolved"
    for rule in execution_rules(spec, workflow):
        finding = rules.evaluate(rule, facts, now)
        key = subject_key(rule.key, workflow.name, location)
        change = _plan(spec, policy, workflow, location, key, finding, known, now, is_flapping)
        if change is not None:
            changes.append(change)
    return changes


def plan_finding_for(
    spec: AlertsSpec,
    policy: Policy,
    workflow: Workflow | None,
    location: str | None,
    key: str,
    finding: Finding,
    known: Known,
    now: datetime,
) -> Change | None:
    """One finding from outside an execution (a tick, analytics) on its alert."""
    flap = None
    if workflow is not None:
        flap = known.alerts.get(subject_key(flapping.RULE, workflow.name, location))
    is_flapping = flap is not None and flap.is_open
    return _plan(spec, policy, workflow, location, key, finding, known, now, is_flapping)


def plan_tick(
    spec: AlertsSpec,
    policy: Policy,
    findings: Sequence[tuple[Workflow | None, str | None, str, Finding]],
    attention: Sequence[Alert],
    known: Known,
    now: datetime,
) -> list[Change]:
    """Time-driven findings first; then released notices and reminders for the alerts
    those did not touch (one change per alert per pass, or the versions would clash)."""
    changes: list[Change] = []
    touched: set[int] = set()
    for workflow, location, key, finding in findings:
        change = plan_finding_for(spec, policy, workflow, location, key, finding, known, now)
        if change is not None:
            changes.append(change)
            if change.alert_id is not None:
                touched.add(change.alert_id)
    open_flaps = {
        (a.workflow, a.location) for a in attention if a.rule == flapping.RULE and a.is_open
    }
    for alert in attention:
        if alert.id in touched:
            continue
        is_flapping = alert.rule != flapping.RULE and (alert.workflow, alert.location) in open_flaps
        held_by = notices.mute(
            known.silences, alert.workflow, alert.location, alert.tags, now, flapping=is_flapping
        )
        change = plan_periodic(
            policy,
            alert,
            held_by=held_by,
            followers=known.followers.get(alert.id, ()),
            batches=known.batches,
            now=now,
        )
        if change is not None:
            changes.append(change)
    return changes


def deadman_findings(
    spec: AlertsSpec,
    workflows: Sequence[Workflow],
    last_slots: Mapping[tuple[str, str], datetime],
    known_since: Mapping[str, datetime],
    last_beat: datetime | None,
    started_at: datetime,
    now: datetime,
    health_interval_s: float = 300.0,
) -> list[tuple[Workflow | None, str | None, str, Finding]]:
    """The dead man's switches: each workflow's slots, and wfmon's own heartbeat.

    Every check, judged from `last_slots`. The service judges only the checks that can
    change something (`slotwatch.overdue`) the same way, with `no_execution_findings`."""
    checks = slotwatch.slot_checks(spec, workflows)
    out = no_execution_findings(checks, last_slots, known_since, started_at, now)
    return out + heartbeat_findings(spec, last_beat, now, health_interval_s)


def no_execution_findings(
    checks: Sequence[slotwatch.SlotCheck],
    last_slots: Mapping[tuple[str, str], datetime],
    known_since: Mapping[str, datetime],
    started_at: datetime,
    now: datetime,
) -> list[tuple[Workflow | None, str | None, str, Finding]]:
    out: list[tuple[Workflow | None, str | None, str, Finding]] = []
    for check in checks:
        last = max((s for p in check.pairs if (s := last_slots.get(p)) is not None), default=None)
        name = check.workflow.name
        finding = deadman.no_executions(
            check.rule, check.workflow, last, known_since.get(name), started_at, now
        )
        out.append((check.workflow, check.location, check.key, finding))
    return out


def heartbeat_findings(
    spec: AlertsSpec, last_beat: datetime | None, now: datetime, health_interval_s: float
) -> list[tuple[Workflow | None, str | None, str, Finding]]:
    if not (spec.enabled and spec.heartbeat.enabled):
        return []
    finding = deadman.heartbeat(spec.heartbeat, last_beat, now, health_interval_s)
    return [(None, None, deadman.HEARTBEAT, finding)]


def orphan_findings(
    spec: AlertsSpec, workflows: Sequence[Workflow], attention: Sequence[Alert]
) -> list[tuple[Workflow | None, str | None, str, Finding]]:
    """Open alerts whose workflow or rule left the config: resolved, or they would remind
    someone every few hours about a check that no longer exists."""
    by_name = {w.name: w for w in workflows}
    out: list[tuple[Workflow | None, str | None, str, Finding]] = []
    for alert in attention:
        if not alert.is_open:
            continue
        workflow = by_name.get(alert.workflow) if alert.workflow is not None else None
        if alert.workflow is None:
            gone = alert.rule == deadman.HEARTBEAT and not (spec.enabled and spec.heartbeat.enabled)
            reason, message = "rule_removed", "the heartbeat check is switched off"
        elif workflow is None or not workflow.enabled:
            gone, reason = True, "workflow_removed"
            message = "the workflow is no longer in the config (or is disabled)"
        elif alert.rule == flapping.RULE:
            gone = not spec.flapping.enabled
            reason, message = "rule_removed", "flapping detection is switched off"
        else:
            gone = alert.rule not in {r.key for r in rules_for(spec, workflow)}
            reason, message = "rule_removed", f"rule {alert.rule} is no longer configured"
        if gone:
            finding = Finding(alert.rule, alert.kind, alert.severity, Verdict.OK, reason, message)
            out.append((workflow, alert.location, alert.dedup_key, finding))
    return out


def anomaly_rule(spec: AlertsSpec, workflow: Workflow, name: str | None = None) -> Anomaly | None:
    for rule in rules_for(spec, workflow):
        if isinstance(rule, Anomaly) and (name is None or rule.key == name):
            return rule
    return None


def anomaly_key(rule: Anomaly, workflow: str, step: object, series: object) -> str:
    return f"{rule.key}:{workflow}/{step or '-'}/{series or '-'}"


def _plan(
    spec: AlertsSpec,
    policy: Policy,
    workflow: Workflow | None,
    location: str | None,
    key: str,
    finding: Finding,
    known: Known,
    now: datetime,
    is_flapping: bool,
) -> Change | None:
    alert = known.alerts.get(key)
    tags = workflow.tags if workflow is not None else ()
    explicit = workflow_alerts(workflow).group if workflow is not None else None
    group = group_key(spec.grouping.by, workflow, finding.rule, finding.severity, explicit)
    name = workflow.name if workflow is not None else None
    subject = Subject(name, location, group, tuple(tags))
    held_by = notices.mute(known.silences, name, location, tags, now, flapping=is_flapping)
    return plan_finding(
        policy,
        subject,
        key,
        finding,
        alert,
        held_by=held_by,
        followers=known.followers.get(alert.id, ()) if alert is not None else (),
        batches=known.batches,
        now=now,
    )


def needs_for(spec: AlertsSpec, rules: Sequence[RuleBase]) -> Needs:
    """How much of a subject's history its rules (and flapping) look at."""
    count, window = 3, spec.flapping.window if spec.flapping.enabled else 0.0
    steps: set[str] = set()
    tls = False
    for rule in rules:
        for name in ("failures", "recoveries", "runs"):
            count = max(count, int(getattr(rule, name, 0)) + 1)
        window = max(window, float(getattr(rule, "window", 0.0)))
        step = getattr(rule, "step", None)
        if step and getattr(rule, "kind", "") in ("latency", "latency_p95"):
            steps.add(step)
        tls = tls or getattr(rule, "kind", "") == "tls_expiry"
    return Needs(count=count, window_s=window, steps=frozenset(steps), tls=tls)
