"""Findings the periodic check makes (pure): nothing ran, wfmon fell silent, an anomaly.

These are about time passing rather than about a run, so they are judged on the alert
service's own tick from stored facts: a workflow's latest slot with an execution, the
latest heartbeat row, the time of the latest anomaly event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from wfmon.alerts.config import HeartbeatSpec
from wfmon.alerts.facts import Finding
from wfmon.alerts.rulespecs import Anomaly, NoExecutions
from wfmon.domain.alert import Verdict
from wfmon.domain.workflow import Workflow
from wfmon.scheduler.cron import latest_slot
from wfmon.status.words import duration_words

HEARTBEAT = "heartbeat"


def no_executions(
    rule: NoExecutions,
    workflow: Workflow,
    last_slot: datetime | None,
    known_since: datetime | None,
    started_at: datetime,
    now: datetime,
) -> Finding:
    """The slot that should have run by now (`grace` plus jitter and timeout ago) has no
    execution. Not judged in the service's first `grace` (the scheduler is catching up)
    nor for slots before the workflow was first seen (`known_since`)."""
    grace = rule.grace + workflow.jitter_s + workflow.timeout_s
    if now - started_at < timedelta(seconds=grace):
        return _finding(rule, Verdict.UNKNOWN, "starting_up", "wfmon started moments ago")
    due = latest_slot(workflow.schedule, now - timedelta(seconds=grace))
    if due is None or known_since is None or due <= known_since:
        return _finding(rule, Verdict.UNKNOWN, "nothing_due_yet", "no slot due yet")
    if last_slot is not None and last_slot >= due:
        return _finding(rule, Verdict.OK, "ran_on_schedule", f"the slot at {due:%H:%M} ran")
    last = f"the last at {last_slot:%Y-%m-%d %H:%M} UTC" if last_slot else "none ever"
    message = (
        f"no execution for the slot at {due:%Y-%m-%d %H:%M} UTC ({last}); "
        f"{workflow.schedule.describe()}"
    )
    since = last_slot or known_since
    return _finding(rule, Verdict.FAILING, "no_execution", message, since)


def heartbeat(
    spec: HeartbeatSpec, last_beat: datetime | None, now: datetime, interval_s: float = 300.0
) -> Finding:
    """wfmon's own heartbeat (a health-check row, every `interval_s`) older than
    `max_silence`, or than two intervals if those are longer (a daemon set to check its
    health hourly is not dead after 15 quiet minutes). Judged on the daemon's start too: a
    daemon that was down for an hour says so when it comes back."""
    if last_beat is None:
        return Finding(HEARTBEAT, HEARTBEAT, spec.severity, Verdict.UNKNOWN, "never", "none yet")
    silent = (now - last_beat).total_seconds()
    if silent > max(spec.max_silence, 2 * interval_s):
        message = f"no heartbeat from wfmon for {duration_words(silent)}"
        return Finding(
            HEARTBEAT,
            HEARTBEAT,
            spec.severity,
            Verdict.FAILING,
            "heartbeat_stale",
            message,
            since=last_beat,
            facts={"since": last_beat.isoformat()},
        )
    return Finding(
        HEARTBEAT, HEARTBEAT, spec.severity, Verdict.OK, "heartbeat_fresh", "wfmon is alive"
    )


def anomaly_detected(rule: Anomaly, data: Mapping[str, Any]) -> Finding:
    """An `anomaly.detected` event: FAILING unless its score is under `min_score`."""
    score = data.get("score")
    what = " / ".join(str(data[k]) for k in ("step", "series") if data.get(k))
    message = f"anomaly in {what or 'the workflow'}: {data.get('reason') or 'no reason given'}"
    facts = {"step": data.get("step"), "series": data.get("series"), "score": score}
    if isinstance(score, int | float) and score < rule.min_score:
        return _finding(rule, Verdict.UNKNOWN, "score_below_minimum", message, facts=facts)
    return _finding(rule, Verdict.FAILING, "anomaly_detected", message, facts=facts)


def anomaly_quiet(rule: Anomaly, last_seen: datetime, now: datetime) -> Finding:
    """No anomaly event for `clear_after`: the series is back to its normal."""
    quiet = (now - last_seen).total_seconds()
    if quiet >= rule.clear_after:
        message = f"no anomaly for {duration_words(quiet)}"
        return _finding(rule, Verdict.OK, "anomaly_quiet", message)
    return _finding(rule, Verdict.UNKNOWN, "anomaly_recent", "an anomaly was seen recently")


def _finding(
    rule: NoExecutions | Anomaly,
    verdict: Verdict,
    reason: str,
    message: str,
    since: datetime | None = None,
    facts: Mapping[str, Any] | None = None,
) -> Finding:
    details = dict(facts or {})
    if since is not None:
        details["since"] = since.isoformat()
    return Finding(
        rule=rule.key,
        kind=rule.kind,
        severity=rule.severity,
        verdict=verdict,
        reason=reason,
        message=message,
        since=since,
        facts=details,
    )
