"""At least once, never lost: a sender killed (-9) after the receiver got a notification
but before it recorded that, and the same notification sent again with the same keys."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alert_support import Rig, load_config, receiver
from wfmon.alerts.sender import OutboxSender
from wfmon.alerts.setup import AlertingConfig
from wfmon.clock import FakeClock
from wfmon.domain.alert import NotificationStatus
from wfmon.storage import OutboxRepository, open_database

CONFIG = """\
alerts:
  rules: [{{kind: consecutive_failures}}]
  heartbeat: {{enabled: false}}
  grouping: {{window: 0s}}
  outbox: {{claim: 2m}}
channels:
  - {{name: hook, kind: webhook, url: "{url}/hook"}}
workflows:
  - name: checkout
    schedule: "* * * * *"
    steps: [{{name: login, type: http, url: "https://shop.example/login"}}]
"""


async def _flush(config: Path, database_url: str, instance: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "WFMON_DATABASE_URL": database_url,
        "WFMON_INSTANCE": instance,
        "WFMON_CONFIG": str(config),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wfmon",
        "notify",
        "flush",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_a_sender_killed_mid_send_sends_again_with_the_same_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wfmon.db'}"
    db = await open_database(url)
    async with receiver() as recv:
        config = load_config(tmp_path, CONFIG.format(url=recv.url))
        # An hour ago on a fake clock, so the notice is due for the sender's real one.
        clock = FakeClock(datetime.now(UTC) - timedelta(hours=1))
        rig = await Rig.build(db, config, clock)
        await rig.runs("checkout", "FF")
        recv.hold = asyncio.Event()  # the receiver takes the request and does not answer

        first = await _flush(tmp_path / "wfmon.yaml", url, "sender-1")
        await asyncio.wait_for(recv.arrived.wait(), timeout=60)
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL

        [row] = await OutboxRepository(db).list()
        assert (row.status, row.claimed_by, row.attempts) == (
            NotificationStatus.PENDING,
            "sender-1",
            0,
        )  # the receiver has it, the database does not know

        stuck, recv.hold = recv.hold, None
        stuck.set()
        second = await _flush(tmp_path / "wfmon.yaml", url, "sender-1")
        output, _ = await asyncio.wait_for(second.communicate(), timeout=60)
        assert second.returncode == 0, output.decode()

        assert len(recv.requests) == 2
        keys = {
            (r.headers["X-Wfmon-Delivery"], r.headers["X-Wfmon-Dedup-Key"]) for r in recv.requests
        }
        assert len(keys) == 1
        assert recv.requests[0].body == recv.requests[1].body
        [row] = await OutboxRepository(db).list()
        assert (row.status, row.attempts) == (NotificationStatus.SENT, 1)
        await rig.close()
    await db.dispose()


async def test_another_sender_takes_over_a_dead_senders_claim_when_it_expires(
    tmp_path: Path,
) -> None:
    db = await open_database(f"sqlite:///{tmp_path / 'wfmon.db'}")
    async with receiver() as recv:
        clock = FakeClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
        config = load_config(tmp_path, CONFIG.format(url=recv.url))
        rig = await Rig.build(db, config, clock)
        await rig.runs("checkout", "FF")
        outbox = OutboxRepository(db)
        # sender-1 claims the batch and dies before sending or recording anything.
        [batch] = await outbox.claim("sender-1", clock.now(), hold_s=120)

        other = OutboxSender(
            db=db, clock=clock, config=AlertingConfig.from_load(config), instance="sender-2"
        )
        assert await other.run_once() == 0  # the claim still holds
        clock.advance(121)
        assert await other.run_once() == 1  # expired: taken over
        await other.aclose()

        [request] = recv.requests
        assert request.headers["X-Wfmon-Delivery"].startswith(f"{batch.batch_id}-")
        [row] = await outbox.list()
        assert (row.status, row.claimed_by) == (NotificationStatus.SENT, "sender-2")
        await rig.close()
    await db.dispose()
