"""The alert lifecycle and what each event tells receivers: pure transitions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from wfmon.alerts import lifecycle, notices
from wfmon.alerts.facts import Finding
from wfmon.domain.alert import Alert, AlertState, EventKind, Severity, Silence, Verdict

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
F, A, R = AlertState.FIRING, AlertState.ACKNOWLEDGED, AlertState.RESOLVED


def alert(state: AlertState, changed_min_ago: float = 10, **changes: object) -> Alert:
    base = Alert(
        id=1,
        dedup_key="consecutive_failures:checkout",
        episode=1,
        rule="consecutive_failures",
        kind="consecutive_failures",
        severity=Severity.CRITICAL,
        state=state,
        summary="failed 2 runs in a row",
        workflow="checkout",
        location=None,
        group_key="shop",
        tags=("payments",),
        opened_at=NOW - timedelta(hours=1),
        changed_at=NOW - timedelta(minutes=changed_min_ago),
        notified_state=F if state.is_open else R,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def finding(verdict: Verdict) -> Finding:
    return Finding("r", "consecutive_failures", Severity.CRITICAL, verdict, "why", "msg")


@pytest.mark.parametrize(
    ("current", "verdict", "event", "new_episode"),
    [
        (None, Verdict.FAILING, EventKind.FIRED, True),  # a new problem
        (alert(F), Verdict.FAILING, None, False),  # one problem is one alert
        (alert(A), Verdict.FAILING, None, False),  # acknowledged stays acknowledged
        (alert(R, changed_min_ago=10), Verdict.FAILING, EventKind.REOPENED, False),  # back soon
        (alert(R, changed_min_ago=45), Verdict.FAILING, EventKind.FIRED, True),  # a new episode
        (alert(F), Verdict.OK, EventKind.RESOLVED, False),  # recovered
        (alert(A), Verdict.OK, EventKind.RESOLVED, False),  # recovered after an ack
        (alert(R), Verdict.OK, None, False),  # still fine
        (None, Verdict.OK, None, False),  # never failed
        (alert(F), Verdict.UNKNOWN, None, False),  # a flicker changes nothing
        (None, Verdict.UNKNOWN, None, False),
    ],
)
def test_findings_move_alerts_through_their_lifecycle(
    current: Alert | None, verdict: Verdict, event: EventKind | None, new_episode: bool
) -> None:
    step = lifecycle.on_finding(current, finding(verdict), NOW, reopen_within_s=1800)
    assert (step.event, step.new_episode) == (event, new_episode)
    assert step.reason  # every outcome is named, changes or not


@pytest.mark.parametrize(
    ("state", "ack", "resolve"),
    [
        (F, EventKind.ACKNOWLEDGED, EventKind.RESOLVED),
        (A, None, EventKind.RESOLVED),  # "already_acknowledged"
        (R, None, None),  # "already_resolved"
    ],
)
def test_people_acknowledge_and_resolve(
    state: AlertState, ack: EventKind | None, resolve: EventKind | None
) -> None:
    assert lifecycle.acknowledge(alert(state)).event == ack
    assert lifecycle.resolve(alert(state)).event == resolve


SILENCE = Silence(
    id=7,
    name="deploy",
    source="cli",
    author="ops",
    comment="release",
    created_at=NOW,
    tags=("payments",),
    starts_at=NOW - timedelta(minutes=5),
    ends_at=NOW + timedelta(minutes=5),
)


@pytest.mark.parametrize(
    ("silences", "flapping", "expected"),
    [
        ((), False, None),
        ((SILENCE,), False, "silence 7 (deploy)"),  # the workflow has the tag
        ((), True, "flapping"),
        ((SILENCE,), True, "silence 7 (deploy)"),  # a silence is named first
        ((replace(SILENCE, tags=("other",)),), False, None),  # does not cover it
    ],
)
def test_what_holds_notices(
    silences: tuple[Silence, ...], flapping: bool, expected: str | None
) -> None:
    held = notices.mute(silences, "checkout", None, ("payments",), NOW, flapping=flapping)
    assert held == expected


@pytest.mark.parametrize(
    ("event", "before", "held_by", "send", "audience"),
    [
        (EventKind.FIRED, None, None, True, "route"),
        (EventKind.FIRED, None, "silence 7", False, "route"),  # held
        (EventKind.RESOLVED, alert(F), None, True, "followers"),  # tell who heard of it
        (EventKind.RESOLVED, alert(F, notified_state=None), None, False, "route"),  # never told
        (EventKind.RESOLVED, alert(F), "silence 7", False, "route"),  # held
        (EventKind.ACKNOWLEDGED, alert(F), None, True, "followers"),
    ],
)
def test_which_events_are_notified(
    event: EventKind, before: Alert | None, held_by: str | None, send: bool, audience: str
) -> None:
    notice = notices.on_event(event, before, held_by)
    assert (notice.send, notice.audience) == (send, audience)


@pytest.mark.parametrize(
    ("current", "held_by", "send", "reason"),
    [
        # fired during a silence, still firing after it: one notice
        (alert(F, notified_state=None, muted_by="silence 7"), None, True, "silence_ended"),
        # told firing, resolved during a silence: receivers learn it resolved
        (alert(R, notified_state=F, muted_by="silence 7"), None, True, "silence_ended"),
        # fired and resolved inside the silence: nothing at all
        (alert(R, notified_state=None, muted_by="silence 7"), None, False, "receivers_up_to_date"),
        # flapping settled with the alert firing meanwhile
        (alert(F, notified_state=None, muted_by="flapping"), None, True, "flapping_settled"),
        (alert(F, notified_state=None), "silence 7", False, "still_held"),
        (alert(F), None, False, "receivers_up_to_date"),
    ],
)
def test_held_notices_go_out_once_when_the_hold_ends(
    current: Alert, held_by: str | None, send: bool, reason: str
) -> None:
    notice = notices.catch_up(current, held_by)
    assert (notice.send, notice.reason) == (send, reason)


@pytest.mark.parametrize(
    ("current", "minutes_since_notice", "send", "reason"),
    [
        (alert(F), 241, True, "still_firing_unacknowledged"),
        (alert(F), 200, False, "reminded_recently"),
        (alert(A), 600, False, "not_firing_unacknowledged"),  # acknowledged: quiet
        (alert(R), 600, False, "not_firing_unacknowledged"),
    ],
)
def test_reminders_while_firing_and_not_acknowledged(
    current: Alert, minutes_since_notice: float, send: bool, reason: str
) -> None:
    current = replace(current, notified_at=NOW - timedelta(minutes=minutes_since_notice))
    notice = notices.reminder(current, None, NOW, every_s=4 * 3600)
    assert (notice.send, notice.reason) == (send, reason)
    assert notices.reminder(current, None, NOW, every_s=0).reason == "reminders_off"
