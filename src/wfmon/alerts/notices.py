"""Whether an alert event is notified now, held, or sent later (pure).

`notified_state` on each alert is what receivers were last told (firing or resolved). A
silence or flapping holds notices back and records why (`muted_by`); the periodic check
compares the alert with what receivers know and, once nothing holds it any more, sends the
difference: one "still firing" after a maintenance window that did not fix the problem,
nothing at all for a problem that came and went inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from wfmon.alerts import silences as silence_rules
from wfmon.domain.alert import Alert, AlertState, EventKind, Silence

FLAPPING = "flapping"


@dataclass(frozen=True)
class Notice:
    """Send (to which audience) or not, and why. `audience` is `route` (channels chosen
    by severity and tags: new problems) or `followers` (channels told about this alert
    before: acknowledgements, resolutions, reminders)."""

    send: bool
    reason: str
    audience: str = "route"
    held_by: str | None = None


def mute(
    silences: Sequence[Silence],
    workflow: str | None,
    location: str | None,
    tags: Sequence[str],
    now: datetime,
    *,
    flapping: bool,
) -> str | None:
    """What holds this subject's notices now: `silence <id> (<name>)`, `flapping`, or None."""
    silence = silence_rules.covering(silences, workflow, location, tags, now)
    if silence is not None:
        return f"silence {silence.id}" + (f" ({silence.name})" if silence.name else "")
    return FLAPPING if flapping else None


def on_event(event: EventKind, alert_before: Alert | None, held_by: str | None) -> Notice:
    """For an event just recorded: notify now, or hold."""
    told_firing = alert_before is not None and alert_before.notified_state is AlertState.FIRING
    if event in (EventKind.FIRED, EventKind.REOPENED):
        if held_by:
            return Notice(False, "held", held_by=held_by)
        return Notice(True, "new_problem")
    if event is EventKind.RESOLVED:
        if not told_firing:
            return Notice(False, "never_notified_firing")
        if held_by:
            return Notice(False, "held", held_by=held_by)
        return Notice(True, "resolved", "followers")
    if event is EventKind.ACKNOWLEDGED:
        if not told_firing:
            return Notice(False, "never_notified_firing")
        return Notice(True, "acknowledged", "followers")
    return Notice(False, "not_a_notified_event")


def catch_up(alert: Alert, held_by: str | None) -> Notice:
    """After a hold ends: tell receivers what changed while it lasted, once."""
    if held_by:
        return Notice(False, "still_held", held_by=held_by)
    told = alert.notified_state
    why = _released_reason(alert.muted_by)
    if alert.is_open and told is not AlertState.FIRING:
        return Notice(True, why, "route")
    if not alert.is_open and told is AlertState.FIRING:
        return Notice(True, why, "followers")
    return Notice(False, "receivers_up_to_date")


def reminder(alert: Alert, held_by: str | None, now: datetime, every_s: float) -> Notice:
    """Firing, not acknowledged, and quiet for `every_s`: say it again."""
    if every_s <= 0:
        return Notice(False, "reminders_off")
    if alert.state is not AlertState.FIRING or alert.notified_state is not AlertState.FIRING:
        return Notice(False, "not_firing_unacknowledged")
    if held_by:
        return Notice(False, "held", held_by=held_by)
    last = alert.notified_at or alert.changed_at
    if now - last < timedelta(seconds=every_s):
        return Notice(False, "reminded_recently")
    return Notice(True, "still_firing_unacknowledged", "followers")


def _released_reason(muted_by: str | None) -> str:
    if muted_by is None:
        return "catch_up"
    if muted_by == FLAPPING:
        return "flapping_settled"
    return "silence_ended"
