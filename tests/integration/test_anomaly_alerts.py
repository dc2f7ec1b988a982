"""The whole path from a slowdown to an alert: executions on the bus, the Analyzer's
baseline and episode, its `anomaly.detected` event, the anomaly rule, the stored alert."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from alert_support import Rig, load_config
from wfmon.analytics.service import Analyzer
from wfmon.clock import FakeClock
from wfmon.domain.alert import Alert, AlertState
from wfmon.storage import AlertRepository, Database
from wfmon.storage.analytics import AnalyticsRepository

T0 = datetime(2026, 3, 2, tzinfo=UTC)


async def open_alerts(db: Database) -> list[Alert]:
    return await AlertRepository(db).list(states=[AlertState.FIRING, AlertState.ACKNOWLEDGED])


CONFIG = """\
alerts:
  rules: [{kind: anomaly, clear_after: 1h}]
  heartbeat: {enabled: false}
  flapping: {enabled: false}
  grouping: {window: 0s}
workflows:
  - name: checkout
    schedule: "*/5 * * * *"
    steps: [{name: login, type: http, url: "https://shop.example/login"}]
"""


async def test_a_slowdown_the_analyzer_finds_becomes_an_anomaly_alert(
    db: Database, tmp_path: Path
) -> None:
    """Pass: 150 runs at about 200 ms then runs four times slower raise anomaly alerts for
    checkout (one per series that went out of range: the workflow's and its step's), one of
    them about the workflow's duration with the analyzer's reason; no alert before it."""
    rig = await Rig.build(db, load_config(tmp_path, CONFIG), FakeClock(T0))
    analyzer = Analyzer(db, rig.bus, rig.clock)
    await analyzer.start()
    rng = random.Random(3)
    for _ in range(150):
        await rig.run("checkout", True, every_s=300, duration_ms=200 * rng.lognormvariate(0, 0.1))
    assert await open_alerts(db) == []
    for _ in range(4):
        await rig.run("checkout", True, every_s=300, duration_ms=800 * rng.lognormvariate(0, 0.1))
    alerts = {a.dedup_key: a for a in await open_alerts(db)}
    assert {(a.kind, a.workflow) for a in alerts.values()} == {("anomaly", "checkout")}
    whole = alerts["anomaly:checkout/-/duration"]
    stored = await AnalyticsRepository(db).anomalies(workflow="checkout")
    [reason] = [a.reason for a in stored if not a.step and a.metric == "duration"]
    assert reason.split(" since ")[0] in whole.summary
    await analyzer.stop()
    await rig.close()
