"""Delivery against a real webhook receiver on loopback: retries with growing gaps and the
same keys, permanent failures dead at once without holding up other channels."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from alert_support import Received, Receiver, Rig, load_config, receiver
from wfmon.clock import FakeClock
from wfmon.domain.alert import NotificationStatus
from wfmon.storage import Database, OutboxRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

CONFIG = """\
alerts:
  rules: [{{kind: consecutive_failures}}]
  heartbeat: {{enabled: false}}
  grouping: {{window: 0s}}
  outbox: {{backoff: 5s, max_backoff: 10m, max_age: 24h}}
channels:
  - {{name: a, kind: webhook, url: "{url}/a"}}
  - {{name: b, kind: webhook, url: "{url}/b"}}
workflows:
  - name: checkout
    schedule: "* * * * *"
    steps: [{{name: login, type: http, url: "https://shop.example/login"}}]
"""


@pytest.fixture
async def rig(db: Database, tmp_path: Path) -> AsyncIterator[tuple[Rig, Receiver]]:
    async with receiver() as recv:
        built = await Rig.build(
            db, load_config(tmp_path, CONFIG.format(url=recv.url)), FakeClock(T0)
        )
        built.alerting.sender.rng = random.Random(42)
        yield built, recv
        await built.close()


async def drain(r: Rig, limit: int = 100) -> None:
    """Send, then jump the clock to the next due retry, until nothing is pending."""
    outbox = OutboxRepository(r.db)
    for _ in range(limit):
        await r.alerting.sender.run_once()
        due = await outbox.next_due()
        if due is None:
            return
        r.clock.set(max(due, r.clock.now()))
    raise AssertionError("the outbox never drained")


async def test_a_receiver_down_for_three_minutes_gets_the_notice_once_with_the_same_keys(
    rig: tuple[Rig, Receiver],
) -> None:
    r, recv = rig
    seen_at: list[datetime] = []

    def down_for_3_minutes(got: Received) -> int:
        if got.path != "/a":
            return 200
        seen_at.append(r.clock.now())
        return 503 if r.clock.now() < T0 + timedelta(minutes=5) else 200

    recv.respond = down_for_3_minutes
    await r.runs("checkout", "FF")  # fires at T0 + 2 min: the receiver is back at T0 + 5 min
    await drain(r)

    attempts = recv.for_path("/a")
    assert [a.answered for a in attempts].count(200) == 1  # delivered once
    assert attempts[-1].answered == 200
    assert all(a.answered == 503 for a in attempts[:-1])
    assert len({a.headers["X-Wfmon-Delivery"] for a in attempts}) == 1
    assert {a.headers["X-Wfmon-Dedup-Key"] for a in attempts} == {"consecutive_failures:checkout"}
    gaps = [(b - a).total_seconds() for a, b in pairwise(seen_at)]
    assert len(gaps) >= 4
    assert all(later > earlier for earlier, later in pairwise(gaps)), gaps
    rows = {n.channel: n for n in await OutboxRepository(r.db).list()}
    assert rows["a"].status is NotificationStatus.SENT
    assert rows["a"].attempts == len(attempts)


async def test_retry_after_from_the_receiver_is_honoured(rig: tuple[Rig, Receiver]) -> None:
    r, recv = rig
    seen_at: list[datetime] = []

    def busy_once(got: Received) -> int | tuple[int, dict[str, str]]:
        if got.path != "/a":
            return 200
        seen_at.append(r.clock.now())
        return (429, {"Retry-After": "42"}) if len(seen_at) == 1 else 200

    recv.respond = busy_once
    await r.runs("checkout", "FF")
    await drain(r)
    assert [(b - a).total_seconds() for a, b in pairwise(seen_at)] == [42.0]


async def test_a_401_is_dead_after_one_attempt_and_other_channels_are_unaffected(
    rig: tuple[Rig, Receiver],
) -> None:
    r, recv = rig
    recv.respond = lambda got: 401 if got.path == "/a" else 200
    await r.runs("checkout", "FF")
    await drain(r)
    r.clock.advance(3600)
    await r.alerting.sender.run_once()

    assert [x.answered for x in recv.for_path("/a")] == [401]  # one attempt, never again
    assert [x.answered for x in recv.for_path("/b")] == [200]
    rows = {n.channel: n for n in await OutboxRepository(r.db).list()}
    assert (rows["a"].status, rows["a"].attempts, rows["a"].last_code) == (
        NotificationStatus.DEAD,
        1,
        401,
    )
    assert "401" in (rows["a"].last_error or "")
    assert rows["b"].status is NotificationStatus.SENT


async def test_rows_that_keep_failing_die_after_the_max_age(rig: tuple[Rig, Receiver]) -> None:
    r, recv = rig
    recv.respond = lambda got: 503 if got.path == "/a" else 200
    await r.runs("checkout", "FF")
    await drain(r, limit=500)

    rows = {n.channel: n for n in await OutboxRepository(r.db).list()}
    assert rows["a"].status is NotificationStatus.DEAD
    assert r.clock.now() - rows["a"].created_at <= timedelta(hours=24)
    assert len(recv.for_path("/a")) == rows["a"].attempts > 10
