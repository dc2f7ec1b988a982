"""`wfmon status` on alerting: firing alerts and undeliverable notifications are reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from wfmon.alerts.status import AlertsStatus
from wfmon.domain.alert import Alert, AlertState, Severity
from wfmon.status.assess import DEFAULT_THRESHOLDS, alerts_rule
from wfmon.status.facts import DatabaseFacts, StatusFacts

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
FIRING = Alert(
    id=4,
    dedup_key="consecutive_failures:checkout",
    episode=1,
    rule="consecutive_failures",
    kind="consecutive_failures",
    severity=Severity.CRITICAL,
    state=AlertState.FIRING,
    summary="failed 3 runs in a row",
    workflow="checkout",
    location=None,
    group_key="shop",
    tags=(),
    opened_at=NOW - timedelta(minutes=20),
    changed_at=NOW - timedelta(minutes=20),
)


@pytest.mark.parametrize(
    ("alerts", "codes"),
    [
        (AlertsStatus(), []),  # all quiet
        (AlertsStatus(open=(FIRING,)), ["alerts_firing"]),
        # acknowledged: someone is on it, not a reason
        (AlertsStatus(open=(replace(FIRING, state=AlertState.ACKNOWLEDGED),)), []),
        (AlertsStatus(dead=2), ["notifications_dead"]),
        # waiting a minute is normal (grouping, a retry); 20 minutes is not
        (AlertsStatus(pending=3, oldest_due=NOW - timedelta(minutes=1)), []),
        (
            AlertsStatus(pending=3, oldest_due=NOW - timedelta(minutes=20)),
            ["notifications_waiting"],
        ),
    ],
)
def test_alerting_reasons(alerts: AlertsStatus, codes: list[str]) -> None:
    facts = StatusFacts(DatabaseFacts("sqlite:///x.db", "sqlite", 1.0, "h", "h"), alerts=alerts)
    found = [f.reason for f in alerts_rule(facts, NOW, DEFAULT_THRESHOLDS) if f.reason]
    assert [r.code for r in found] == codes
    if codes == ["alerts_firing"]:
        assert found[0].message == (
            "1 alert firing, not acknowledged (worst: critical checkout: failed 3 runs in a row)"
        )
