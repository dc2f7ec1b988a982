"""The Analyzer on real databases: a level shift fed through the bus is stored and
published; incidents are stored; a restart resumes from the saved state."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from analytics_support import order_result
from wfmon.analytics.service import Analyzer
from wfmon.clock import FakeClock
from wfmon.domain.run import ExecutionResult
from wfmon.events import Event, EventBus
from wfmon.storage import Database
from wfmon.storage.analytics import AnalyticsRepository

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _result(i: int, ms: float, ok: bool = True) -> ExecutionResult:
    return order_result("order-placement", T0 + timedelta(minutes=5 * i), ms, ok)


async def test_a_level_shift_through_the_bus_is_published_and_stored(db: Database) -> None:
    bus = EventBus()
    seen: list[Event] = []

    async def collect(event: Event) -> None:
        seen.append(event)

    bus.subscribe(collect, "anomaly.detected")
    analyzer = Analyzer(db, bus, FakeClock(T0))
    await analyzer.start()
    rng = random.Random(1)
    for i in range(120):
        shift = 4.0 if i >= 100 else 1.0
        result = _result(i, 300.0 * shift * rng.lognormvariate(0, 0.1))
        await bus.publish(Event("execution.finished", payload=result))
    assert seen, "no anomaly.detected event"
    first = seen[0].data
    assert first["workflow"] == "order-placement"
    assert first["series"] == "duration"
    assert 0.5 <= first["score"] <= 1.0
    assert datetime.fromisoformat(first["at"]) >= T0 + timedelta(minutes=500)
    assert "vs expected" in first["reason"]
    stored = await AnalyticsRepository(db).anomalies()
    assert {a.metric for a in stored} >= {"duration"}
    assert all(a.reason for a in stored)


async def test_failures_across_runs_become_an_incident(db: Database) -> None:
    analyzer = Analyzer(db, EventBus(), FakeClock(T0))
    await analyzer.start(subscribe=False)
    from wfmon.analytics.runs import RunFacts

    for i in range(3):
        await analyzer.observe(RunFacts.from_result(_result(i, 2.0, ok=False)))
    (incident,) = await AnalyticsRepository(db).incidents()
    assert incident.failures == 3
    assert incident.description.startswith("POST /api/orders returns 503 in order-placement")


async def test_a_restart_resumes_from_the_saved_state(db: Database) -> None:
    from wfmon.analytics.runs import RunFacts

    analyzer = Analyzer(db, EventBus(), FakeClock(T0))
    await analyzer.start(subscribe=False)
    for i in range(50):
        await analyzer.observe(RunFacts.from_result(_result(i, 100.0 + i % 7)))
    await analyzer.stop()
    again = Analyzer(db, EventBus(), FakeClock(T0 + timedelta(days=1)))
    replayed = await again.start(subscribe=False)
    assert replayed == 0  # nothing recorded in executions since: the state is complete
    assert (
        again.baselines["order-placement"].state() == analyzer.baselines["order-placement"].state()
    )


async def test_saving_many_workflows_stores_every_state_in_chunks(db: Database) -> None:
    """Pass: 600 workflows' states (more than two chunks) are all stored by one save."""
    from wfmon.analytics.runs import RunFacts
    from wfmon.analytics.service import SAVE_CHUNK

    analyzer = Analyzer(db, EventBus(), FakeClock(T0))
    await analyzer.start(subscribe=False)
    names = [f"wf-{i:03d}" for i in range(600)]
    assert len(names) > 2 * SAVE_CHUNK
    for name in names:
        await analyzer.observe(RunFacts.from_result(order_result(name, T0, 100.0)))
    await analyzer.save(names)
    assert sorted(await AnalyticsRepository(db).load_states()) == names
