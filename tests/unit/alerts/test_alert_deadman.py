"""Time-driven findings: no execution for a slot, wfmon's heartbeat, analytics anomalies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wfmon.alerts import deadman
from wfmon.alerts.config import HeartbeatSpec
from wfmon.alerts.rulespecs import Anomaly, NoExecutions
from wfmon.domain.alert import Verdict
from wfmon.domain.workflow import Schedule, Workflow

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RULE = NoExecutions(kind="no_executions", grace=240)
# Every 5 minutes, 60 s timeout: a slot is overdue 240 + 60 = 300 s after it.
WF = Workflow(name="checkout", steps=(), schedule=Schedule(cron="*/5 * * * *"), timeout_s=60)
DAY_AGO = NOW - timedelta(days=1)


@pytest.mark.parametrize(
    ("last_slot", "known_since", "started_min_ago", "verdict", "reason"),
    [
        # the slot due by now (11:55) ran
        (NOW - timedelta(minutes=5), DAY_AGO, 60, Verdict.OK, "ran_on_schedule"),
        # the last execution was at 11:40: 11:45, 11:50 and 11:55 have none
        (NOW - timedelta(minutes=20), DAY_AGO, 60, Verdict.FAILING, "no_execution"),
        (None, DAY_AGO, 60, Verdict.FAILING, "no_execution"),  # never ran at all
        # the workflow was added a minute ago: nothing due yet
        (None, NOW - timedelta(minutes=1), 60, Verdict.UNKNOWN, "nothing_due_yet"),
        # wfmon itself started 2 minutes ago: the scheduler is still catching up
        (None, DAY_AGO, 2, Verdict.UNKNOWN, "starting_up"),
    ],
)
def test_no_executions_is_a_dead_mans_switch_per_workflow(
    last_slot: datetime | None,
    known_since: datetime,
    started_min_ago: float,
    verdict: Verdict,
    reason: str,
) -> None:
    started = NOW - timedelta(minutes=started_min_ago)
    finding = deadman.no_executions(RULE, WF, last_slot, known_since, started, NOW)
    assert (finding.verdict, finding.reason) == (verdict, reason)


@pytest.mark.parametrize(
    ("beat_min_ago", "verdict"),
    [(1, Verdict.OK), (14, Verdict.OK), (16, Verdict.FAILING), (None, Verdict.UNKNOWN)],
)
def test_the_heartbeat_switch(beat_min_ago: float | None, verdict: Verdict) -> None:
    beat = None if beat_min_ago is None else NOW - timedelta(minutes=beat_min_ago)
    finding = deadman.heartbeat(HeartbeatSpec(max_silence=900), beat, NOW)
    assert finding.verdict is verdict
    if verdict is Verdict.FAILING:
        assert finding.message == "no heartbeat from wfmon for 16 min"


def test_a_long_health_interval_stretches_the_heartbeat_switch() -> None:
    beat = NOW - timedelta(minutes=50)  # health checks hourly: 50 min of quiet is normal
    spec = HeartbeatSpec(max_silence=900)
    assert deadman.heartbeat(spec, beat, NOW, interval_s=3600).verdict is Verdict.OK
    assert deadman.heartbeat(spec, beat, NOW, interval_s=300).verdict is Verdict.FAILING


@pytest.mark.parametrize(
    ("score", "verdict", "reason"),
    [
        (4.2, Verdict.FAILING, "anomaly_detected"),
        (0.5, Verdict.UNKNOWN, "score_below_minimum"),
        (None, Verdict.FAILING, "anomaly_detected"),  # no score: trusted as is
    ],
)
def test_anomaly_events_fire_above_the_minimum_score(
    score: float | None, verdict: Verdict, reason: str
) -> None:
    rule = Anomaly(kind="anomaly", min_score=1.0)
    data = {"workflow": "checkout", "step": "pay", "series": "latency", "score": score}
    data["reason"] = "p95 3x its baseline"
    finding = deadman.anomaly_detected(rule, data)
    assert (finding.verdict, finding.reason) == (verdict, reason)
    assert finding.message == "anomaly in pay / latency: p95 3x its baseline"


def test_anomalies_clear_after_a_quiet_period() -> None:
    rule = Anomaly(kind="anomaly", clear_after=3600)
    assert deadman.anomaly_quiet(rule, NOW - timedelta(minutes=59), NOW).verdict is Verdict.UNKNOWN
    assert deadman.anomaly_quiet(rule, NOW - timedelta(minutes=60), NOW).verdict is Verdict.OK
