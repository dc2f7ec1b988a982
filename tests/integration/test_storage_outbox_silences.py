"""Outbox claims shared by several senders, and config silences kept in step, on both
databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alert_support import Rig, load_config, receiver
from wfmon.alerts.config import SilenceSpec
from wfmon.alerts.sender import OutboxSender
from wfmon.alerts.setup import AlertingConfig
from wfmon.clock import FakeClock
from wfmon.domain.alert import NotificationStatus
from wfmon.storage import Database, OutboxRepository, SilenceRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WORKFLOW = """\
  - name: {name}
    schedule: "* * * * *"
    steps: [{{name: login, type: http, url: "https://{host}/login"}}]
"""
CONFIG = """\
alerts:
  rules: [{{kind: consecutive_failures}}]
  heartbeat: {{enabled: false}}
  grouping: {{window: 0s, by: workflow}}
channels:
  - {{name: hook, kind: webhook, url: "{url}/hook"}}
workflows:
{workflows}"""


async def test_senders_sharing_a_database_never_send_a_row_twice(
    db: Database, tmp_path: Path
) -> None:
    async with receiver() as recv:
        names = [f"wf-{i:02d}" for i in range(30)]
        workflows = "".join(WORKFLOW.format(name=n, host=f"{n}.example") for n in names)
        config = load_config(tmp_path, CONFIG.format(url=recv.url, workflows=workflows))
        clock = FakeClock(T0)
        rig = await Rig.build(db, config, clock)
        for _ in range(2):
            for name in names:
                await rig.run(name, ok=False, every_s=0.01)
        settings = AlertingConfig.from_load(config)
        senders = [
            OutboxSender(db=db, clock=clock, config=settings, instance=f"sender-{i}")
            for i in range(4)
        ]
        handled = await asyncio.gather(*(s.run_once() for s in senders))
        for sender in senders:
            await sender.aclose()
        await rig.close()

    assert sum(handled) == 30  # every batch handled once, by one of them
    delivered = [i["alert"]["workflow"] for r in recv.requests for i in r.json["items"]]
    assert sorted(delivered) == names
    rows = await OutboxRepository(db).list()
    assert {r.status for r in rows} == {NotificationStatus.SENT}
    assert all(r.attempts == 1 for r in rows)


async def test_config_silences_follow_the_config_and_an_expiry_by_hand_sticks(
    db: Database,
) -> None:
    repo = SilenceRepository(db)
    weekly = SilenceSpec(name="weekly", cron="0 2 * * 0", duration=7200, tags=("shop",))
    once = SilenceSpec(start=T0, end=T0 + timedelta(hours=1), workflows=("checkout",))

    assert await repo.sync_config([weekly, once], T0) == (2, 0)
    assert await repo.sync_config([weekly, once], T0) == (0, 0)  # a restart: nothing new
    [first, second] = await repo.list()
    assert (first.name, first.cron, first.tags) == ("weekly", "0 2 * * 0", ("shop",))
    assert (second.name or "").startswith("config-")

    assert await repo.expire(first.id, T0)
    assert await repo.sync_config([weekly, once], T0) == (0, 0)  # stays expired
    assert [s.name for s in await repo.list()] == [second.name]

    longer = weekly.model_copy(update={"duration": 10800.0})
    assert await repo.sync_config([longer], T0) == (1, 1)  # changed: back; `once` left
    [current] = await repo.list()
    assert (current.name, current.duration_s) == ("weekly", 10800.0)
