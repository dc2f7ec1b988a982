"""The daemon with alerting wired in the way the composition root does it: a journey that
breaks is recorded by the scheduler, judged by the alert service from the bus, and reaches
a real webhook receiver, in one process on the system clock."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alert_support import receiver
from support import Lab
from wfmon.app import build_app
from wfmon.daemon import Daemon
from wfmon.domain.alert import AlertState
from wfmon.settings import Settings
from wfmon.storage import AlertRepository

CONFIG = """\
daemon: {{watch: false, health_interval: 1h, report_interval: 0}}
alerts:
  rules: [{{kind: consecutive_failures, failures: 2}}]
  grouping: {{window: 0s}}
channels:
  - {{name: oncall, kind: webhook, url: "{hook}/oncall"}}
workflows:
  - name: checkout
    schedule: {{every: 1s}}
    steps:
      - {{name: pay, type: http, url: "{lab}/status/503", expect: {{status: 200}}}}
"""


async def test_a_broken_journey_reaches_the_webhook_through_the_daemon(
    tmp_path: Path, lab: Lab
) -> None:
    async with receiver() as recv:
        path = tmp_path / "wfmon.yaml"
        path.write_text(CONFIG.format(hook=recv.url, lab=lab.base_url))
        settings = Settings.from_env(
            {}, config_path=path, data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/w.db"
        )
        async with build_app(settings) as app:
            daemon = Daemon(app, instance="t")  # it builds and runs its own alerting
            running = asyncio.create_task(daemon.run())
            try:
                await asyncio.wait_for(recv.arrived.wait(), timeout=30)
            finally:
                daemon.stop.set()
                assert await asyncio.wait_for(running, timeout=30) == 0
            [alert] = await AlertRepository(app.db).list()

    [message] = recv.for_path("/oncall")
    item = message.json["items"][0]
    assert (item["event"], item["alert"]["workflow"], item["alert"]["step"]) == (
        "fired",
        "checkout",
        "pay",
    )
    assert item["alert"]["actual"] == 503
    assert alert.state is AlertState.FIRING
