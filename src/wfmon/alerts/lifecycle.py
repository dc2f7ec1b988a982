"""The alert lifecycle, as pure transitions: firing → acknowledged → resolved.

Each function takes the alert as stored (None: no episode yet) and returns a `Transition`
naming the event to record (None: nothing changes) and why. A problem that comes back
within `reopen_within` of being resolved reopens the same alert (one incident, not two);
later it is a new episode under the same dedup key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from wfmon.alerts.facts import Finding
from wfmon.domain.alert import Alert, AlertState, EventKind, Verdict


@dataclass(frozen=True)
class Transition:
    event: EventKind | None  # None: no change to record
    to_state: AlertState | None
    reason: str
    new_episode: bool = False


def on_finding(
    alert: Alert | None, finding: Finding, now: datetime, reopen_within_s: float
) -> Transition:
    """What a rule's finding does to its alert."""
    if finding.verdict is Verdict.FAILING:
        if alert is None:
            return Transition(EventKind.FIRED, AlertState.FIRING, finding.reason, True)
        if alert.is_open:
            return Transition(None, None, "still_failing")
        if now - alert.changed_at <= timedelta(seconds=reopen_within_s):
            return Transition(EventKind.REOPENED, AlertState.FIRING, finding.reason)
        return Transition(EventKind.FIRED, AlertState.FIRING, finding.reason, True)
    if finding.verdict is Verdict.OK:
        if alert is not None and alert.is_open:
            return Transition(EventKind.RESOLVED, AlertState.RESOLVED, finding.reason)
        return Transition(None, None, "still_ok")
    return Transition(None, None, "not_enough_evidence")


def acknowledge(alert: Alert) -> Transition:
    """Someone is on it: reminders stop; it still resolves on recovery."""
    if alert.state is AlertState.FIRING:
        return Transition(EventKind.ACKNOWLEDGED, AlertState.ACKNOWLEDGED, "acknowledged")
    if alert.state is AlertState.ACKNOWLEDGED:
        return Transition(None, None, "already_acknowledged")
    return Transition(None, None, "already_resolved")


def resolve(alert: Alert) -> Transition:
    """Resolved by hand; if the rule still fails, its next finding reopens it."""
    if alert.is_open:
        return Transition(EventKind.RESOLVED, AlertState.RESOLVED, "resolved_by_hand")
    return Transition(None, None, "already_resolved")
