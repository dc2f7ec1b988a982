"""The alert pipeline end to end on a fake clock, on SQLite and PostgreSQL: executions in,
notifications out to a real webhook receiver on loopback."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from alert_support import Receiver, Rig, execution, load_config, receiver
from wfmon.alerts.changes import Change, Conflict
from wfmon.alerts.operator import AlertOperator
from wfmon.clock import FakeClock
from wfmon.domain.alert import Alert, AlertState, EventKind
from wfmon.events import Event
from wfmon.storage import AlertRepository, Database, HealthCheckRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

CONFIG = """\
alerts:
  rules: [{{kind: consecutive_failures}}]
  heartbeat: {{enabled: false}}
  remind_every: 4h
channels:
  - {{name: hook, kind: webhook, url: "{url}/hook", secret: "${{env:HOOK_SECRET}}"}}
workflows:
{workflows}
"""
WORKFLOW = """\
  - name: {name}
    schedule: "* * * * *"
    steps: [{{name: login, type: http, url: "https://shop.example/{name}"}}]
"""

RigFactory = Callable[..., "AsyncIterator[tuple[Rig, Receiver]]"]


@pytest.fixture
async def rig(db: Database, tmp_path: Path) -> AsyncIterator[tuple[Rig, Receiver]]:
    async with receiver() as recv:
        text = CONFIG.format(url=recv.url, workflows=WORKFLOW.format(name="checkout"))
        built = await Rig.build(db, load_config(tmp_path, text), FakeClock(T0))
        yield built, recv
        await built.close()


async def open_alerts(db: Database) -> list[Alert]:
    return await AlertRepository(db).list(states=[AlertState.FIRING, AlertState.ACKNOWLEDGED])


def kinds(recv: Receiver) -> list[str]:
    return [item["event"] for r in recv.requests for item in r.json["items"]]


async def test_two_failures_fire_once_and_more_stay_quiet_until_the_reminder(
    rig: tuple[Rig, Receiver],
) -> None:
    r, recv = rig
    await r.runs("checkout", "FF")
    await r.deliver()
    assert kinds(recv) == ["fired"]

    await r.runs("checkout", "FFFFF")
    await r.deliver()
    assert kinds(recv) == ["fired"]  # one problem, one alert, one notice

    await r.tick(advance_s=4 * 3600)
    await r.deliver()
    assert kinds(recv) == ["fired", "reminder"]
    first, reminder = recv.requests
    assert first.json["dedup_key"] == reminder.json["dedup_key"] == "consecutive_failures:checkout"
    item = first.json["items"][0]["alert"]
    assert (item["step"], item["expected"], item["actual"]) == ("login", "== 200", 503)
    # Signed with the secret from the environment, over the exact body.
    expected = "sha256=" + hmac.new(b"s3cret", first.body, hashlib.sha256).hexdigest()
    assert first.headers["X-Wfmon-Signature"] == expected


async def test_acknowledging_stops_reminders(rig: tuple[Rig, Receiver]) -> None:
    r, recv = rig
    await r.runs("checkout", "FF")
    await r.deliver()
    [alert] = await AlertRepository(r.db).list()

    done = await AlertOperator(r.db, r.clock).acknowledge(
        alert.id, actor="cli:alice", note="looking into the payment provider"
    )
    assert done.changed
    assert done.alert is not None
    assert done.alert.state is AlertState.ACKNOWLEDGED
    for _ in range(3):
        await r.tick(advance_s=4 * 3600)
    await r.deliver()

    assert kinds(recv) == ["fired", "acknowledged"]  # no reminder after the ack
    ack = [e for e in await AlertRepository(r.db).history() if e.kind is EventKind.ACKNOWLEDGED]
    assert [(e.actor, e.note) for e in ack] == [("cli:alice", "looking into the payment provider")]


async def test_two_successes_resolve_with_one_notice(rig: tuple[Rig, Receiver]) -> None:
    r, recv = rig
    await r.runs("checkout", "FFS")
    await r.deliver()
    assert kinds(recv) == ["fired"]  # one success is not a recovery

    await r.runs("checkout", "SSSS")
    await r.deliver()
    assert kinds(recv) == ["fired", "resolved"]
    [alert] = await AlertRepository(r.db).list()
    assert (alert.state, alert.resolved_by) == (AlertState.RESOLVED, "system")


async def test_alternating_runs_neither_fire_nor_resolve_but_flap_once(
    rig: tuple[Rig, Receiver],
) -> None:
    r, recv = rig
    await r.runs("checkout", "FS" * 8)
    await r.deliver()

    alerts = await AlertRepository(r.db).list(states=None)
    assert [(a.rule, a.state) for a in alerts] == [("flapping", AlertState.FIRING)]
    assert kinds(recv) == ["fired"]
    assert recv.requests[0].json["items"][0]["alert"]["rule"] == "flapping"


async def test_a_silence_holds_notices_and_one_goes_out_after_it_if_still_failing(
    rig: tuple[Rig, Receiver],
) -> None:
    r, recv = rig
    await AlertOperator(r.db, r.clock).add_silence(
        author="ops",
        comment="deploying",
        source="cli",
        workflows=["checkout"],
        starts_at=r.clock.now(),
        ends_at=r.clock.now() + timedelta(minutes=30),
    )
    await r.runs("checkout", "FFF")
    await r.tick()
    await r.deliver()
    [alert] = await AlertRepository(r.db).list()
    assert alert.state is AlertState.FIRING  # the alert changed state...
    assert recv.requests == []  # ...but nothing was sent
    assert await r.executions.count() == 3  # and every execution was recorded

    await r.tick(advance_s=30 * 60)
    await r.tick(advance_s=60)
    await r.deliver()
    assert kinds(recv) == ["released"]  # one notice, after the window
    assert recv.requests[0].json["items"][0]["reason"] == "silence_ended"


async def test_a_problem_gone_before_the_silence_ends_sends_nothing(
    rig: tuple[Rig, Receiver],
) -> None:
    r, recv = rig
    await AlertOperator(r.db, r.clock).add_silence(
        author="ops",
        comment="maintenance",
        source="cli",
        tags=(),
        workflows=["check*"],
        starts_at=r.clock.now(),
        ends_at=r.clock.now() + timedelta(minutes=30),
    )
    await r.runs("checkout", "FFSS")
    await r.tick(advance_s=31 * 60)
    await r.deliver()
    assert recv.requests == []
    events = [e.kind for e in await AlertRepository(r.db).history()]
    assert events == [EventKind.FIRED, EventKind.RESOLVED]  # recorded all the same


async def test_a_problem_back_soon_reopens_the_alert_and_later_opens_a_new_one(
    rig: tuple[Rig, Receiver],
) -> None:
    r, _ = rig
    await r.runs("checkout", "FFSSFF")
    alerts = await AlertRepository(r.db).list(states=None)
    assert len(alerts) == 1
    events = [e.kind for e in await AlertRepository(r.db).history()]
    assert events == [EventKind.FIRED, EventKind.RESOLVED, EventKind.REOPENED]

    await r.runs("checkout", "SS")
    await r.runs("checkout", "FF", every_s=3600)  # an hour later: a new episode
    episodes = sorted(a.episode for a in await AlertRepository(r.db).list(states=None))
    assert episodes == [1, 2]


async def test_twenty_workflows_failing_together_give_one_notification(
    db: Database, tmp_path: Path
) -> None:
    async with receiver() as recv:
        names = [f"journey-{i:02d}" for i in range(20)]
        text = CONFIG.format(
            url=recv.url, workflows="".join(WORKFLOW.format(name=n) for n in names)
        )
        r = await Rig.build(db, load_config(tmp_path, text), FakeClock(T0))
        try:
            for _ in range(2):
                for name in names:
                    await r.run(name, ok=False, every_s=0.5)
            assert await r.deliver() == 1
        finally:
            await r.close()

    [message] = recv.requests
    assert message.json["title"] == "[CRITICAL] 20 alerts for shop.example: 20 open, 0 resolved"
    assert sorted(i["alert"]["workflow"] for i in message.json["items"]) == names


ANOMALY_CONFIG = """\
alerts:
  rules: [{kind: anomaly, clear_after: 1h}]
  heartbeat: {enabled: false}
  flapping: {enabled: false}
workflows:
  - name: checkout
    schedule: "* * * * *"
    steps: [{name: pay, type: http, url: "https://shop.example/pay"}]
"""


async def test_an_anomaly_from_analytics_raises_an_alert_that_clears_when_quiet(
    db: Database, tmp_path: Path
) -> None:
    r = await Rig.build(db, load_config(tmp_path, ANOMALY_CONFIG), FakeClock(T0))
    data = {
        "workflow": "checkout",
        "step": "pay",
        "series": "latency_p95",
        "score": 6.1,
        "reason": "p95 3.1x its baseline",
        "at": T0.isoformat(),
    }
    await r.bus.publish(Event("anomaly.detected", data))
    await r.alerting.service.process()
    [alert] = await open_alerts(r.db)
    assert (alert.kind, alert.severity.value) == ("anomaly", "warning")
    assert alert.dedup_key == "anomaly:checkout/pay/latency_p95"

    await r.tick(advance_s=59 * 60)
    assert [a.id for a in await open_alerts(r.db)] == [alert.id]
    await r.tick(advance_s=2 * 60)
    assert await open_alerts(r.db) == []  # resolved: quiet for an hour
    await r.close()


DEADMAN_CONFIG = """\
alerts:
  rules: [{kind: no_executions, grace: 60}]
  heartbeat: {max_silence: 15m}
  flapping: {enabled: false}
workflows:
  - name: nightly
    schedule: "*/5 * * * *"
    timeout: 10s
    steps: [{name: a, type: http, url: "https://shop.example/"}]
"""


async def test_dead_mans_switches_fire_for_a_silent_workflow_and_a_silent_wfmon(
    db: Database, tmp_path: Path
) -> None:
    r = await Rig.build(db, load_config(tmp_path, DEADMAN_CONFIG), FakeClock(T0))
    health = HealthCheckRepository(r.db)
    await health.add(T0, "heartbeat", True)
    await r.tick(advance_s=10 * 60)  # 12:05 passed with no execution; heartbeat 10 min old
    assert {a.rule for a in await open_alerts(r.db)} == {"no_executions"}

    await r.tick(advance_s=10 * 60)  # the heartbeat is 20 min old now
    assert {a.rule for a in await open_alerts(r.db)} == {"no_executions", "heartbeat"}

    await r.run("nightly", ok=True, every_s=0)
    await health.add(r.clock.now(), "heartbeat", True)
    await r.tick(advance_s=1)
    assert await open_alerts(r.db) == []  # both resolved
    await r.close()


async def test_a_write_from_a_stale_read_is_refused(rig: tuple[Rig, Receiver]) -> None:
    r, _ = rig
    await r.runs("checkout", "FF")
    [alert] = await AlertRepository(r.db).list()
    await AlertOperator(r.db, r.clock).acknowledge(alert.id, actor="bob")

    stale = Change(alert.id, alert.version, values={"summary": "old news"})
    with pytest.raises(Conflict):
        await AlertRepository(r.db).apply([stale])
    async with r.db.read() as conn:
        summary = (await conn.execute(sa.text("SELECT summary FROM alerts"))).scalar_one()
    assert summary == "failed 2 runs in a row"


async def test_alerts_of_a_workflow_removed_from_the_config_are_resolved(
    rig: tuple[Rig, Receiver], tmp_path: Path
) -> None:
    r, recv = rig
    await r.runs("checkout", "FF")
    await r.deliver()
    empty = CONFIG.format(url=recv.url, workflows=WORKFLOW.format(name="login"))
    await r.alerting.reload(load_config(tmp_path, empty))

    await r.tick()
    await r.deliver()
    assert await open_alerts(r.db) == []
    assert kinds(recv) == ["fired", "resolved"]
    assert recv.requests[-1].json["items"][0]["reason"] == "workflow_removed"


async def test_runs_recorded_while_no_service_listened_are_judged_on_start(
    rig: tuple[Rig, Receiver],
) -> None:
    r, _ = rig
    for _ in range(2):  # recorded, but no event reached the service (it had crashed)
        r.clock.advance(60)
        await r.executions.record_many([execution("checkout", False, r.clock.now())])
    assert await open_alerts(r.db) == []

    r.alerting.service.enqueue_all()  # what the service does when it starts
    await r.alerting.service.process()
    assert [a.dedup_key for a in await open_alerts(r.db)] == ["consecutive_failures:checkout"]


SHARED_DB_CONFIG = """\
alerts:
  rules: [{kind: no_executions, grace: 60}]
  heartbeat: {enabled: false}
  flapping: {enabled: false}
workflows:
"""


async def test_the_dead_mans_switch_counts_runs_of_another_daemon_and_asks_only_when_unsure(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pass: at 12:06:30 the slot of 12:05 is overdue (grace 60 s + timeout 10 s). It fires
    for the workflow with no execution and for the one whose slot was only recorded
    `missed`; not for one run by another daemon on the same database (never published on
    this bus), one still running there, or one run here. The database is asked only about
    the four the service had not seen run; five minutes later the silent workflow's slot
    runs on the other daemon and its alert resolves."""
    from wfmon.storage import ExecutionRepository
    from wfmon.storage.alert_facts import AlertFactsRepository

    names = ["ran-here", "ran-elsewhere", "running-elsewhere", "missed-only", "silent"]
    text = SHARED_DB_CONFIG + "".join(
        f'  - {{name: {n}, schedule: "*/5 * * * *", timeout: 10s,'
        f' steps: [{{name: a, type: http, url: "https://shop.example/"}}]}}\n'
        for n in names
    )
    r = await Rig.build(db, load_config(tmp_path, text), FakeClock(T0))
    elsewhere = ExecutionRepository(db)  # another daemon: writes rows, publishes nothing here
    slot = T0 + timedelta(minutes=5)
    [ran_here] = await r.executions.record_many([execution("ran-here", True, slot)])
    await r.bus.publish(
        Event(
            "execution.finished",
            {"id": ran_here, "workflow": "ran-here", "location": "local"},
            execution("ran-here", True, slot),
        )
    )
    await r.alerting.service.process()
    await elsewhere.record_many([execution("ran-elsewhere", True, slot)])
    await elsewhere.claim_slot("running-elsewhere", "local", slot, started_at=slot)
    await elsewhere.record_missed("missed-only", "local", [slot], slot)
    asked: list[tuple[str, str]] = []
    real = AlertFactsRepository.last_slots

    async def spy(self: AlertFactsRepository, keys: list[tuple[str, str]]) -> object:
        asked.extend(keys)
        return await real(self, keys)

    monkeypatch.setattr(AlertFactsRepository, "last_slots", spy)
    await r.tick(advance_s=6 * 60 + 30)
    assert sorted(a.dedup_key for a in await open_alerts(r.db)) == [
        "no_executions:missed-only",
        "no_executions:silent",
    ]
    assert sorted(w for w, _ in asked) == sorted(names[1:])

    await elsewhere.record_many([execution("silent", True, slot + timedelta(minutes=5))])
    await r.tick(advance_s=5 * 60)
    assert "no_executions:silent" not in {a.dedup_key for a in await open_alerts(r.db)}
    await r.close()
