"""The API's storage on real SQLite and PostgreSQL: accounts, tokens, event log, rollups,
backfill and retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from api_support import execution
from wfmon.clock import FakeClock
from wfmon.domain.run import ExecutionStatus
from wfmon.journal import Retention, RetentionPolicy
from wfmon.storage import Database, ExecutionRepository
from wfmon.storage.accounts import SessionRepository, UserRepository
from wfmon.storage.event_log import EventLogRepository
from wfmon.storage.rollup_backfill import backfill, rebuild
from wfmon.storage.rollups import WHOLE, RollupBatch, RollupRepository
from wfmon.storage.state import StateRepository
from wfmon.storage.tables_alerts import alert_events, alerts, notifications
from wfmon.storage.tables_analytics import anomalies, incidents
from wfmon.storage.tokens import TokenRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def test_a_username_is_taken_once(db: Database) -> None:
    users = UserRepository(db)
    first = await users.add("alice", "hash-1", "admin", T0)
    assert first is not None
    assert await users.add("alice", "hash-2", "viewer", T0) is None
    assert await users.count() == 1
    assert (await users.get("alice")) == first


async def test_a_password_change_deletes_the_users_sessions(db: Database) -> None:
    users, sessions = UserRepository(db), SessionRepository(db)
    alice = await users.add("alice", "h", "admin", T0)
    bob = await users.add("bob", "h", "viewer", T0)
    assert alice is not None
    assert bob is not None
    for id_hash, user in (("a1", alice), ("a2", alice), ("b1", bob)):
        await sessions.create(
            id_hash=id_hash,
            user_id=user.id,
            csrf_token="c",
            now=T0,
            expires_at=at(60),
            ip="127.0.0.1",
            user_agent="test",
        )
    found = await sessions.get("a1")
    assert found is not None
    assert (found.username, found.role) == ("alice", "admin")
    assert await users.set_password(alice.id, "h2", at(1)) == 2
    assert await sessions.get("a1") is None
    assert await sessions.get("b1") is not None


async def test_expired_sessions_are_deleted(db: Database) -> None:
    user = await UserRepository(db).add("alice", "h", "admin", T0)
    assert user is not None
    sessions = SessionRepository(db)
    for id_hash, expires in (("old", at(10)), ("new", at(100))):
        await sessions.create(
            id_hash=id_hash, user_id=user.id, csrf_token="c", now=T0, expires_at=expires,
            ip=None, user_agent=None,
        )  # fmt: skip
    assert await sessions.delete_expired(at(50)) == 1
    assert await sessions.get("new") is not None


async def test_tokens_are_found_by_hash_and_revoked_by_prefix(db: Database) -> None:
    tokens = TokenRepository(db)
    record = await tokens.add(name="ci", prefix="wfm_1", token_hash="abc", scope="write", now=T0)
    assert (await tokens.find("abc")) == record
    assert await tokens.find("nope") is None
    assert await tokens.revoke("wfm_1", at(1))
    assert not await tokens.revoke("wfm_1", at(2))
    revoked = await tokens.find("abc")
    assert revoked is not None
    assert not revoked.usable(at(3))
    assert await tokens.list() == []
    assert len(await tokens.list(include_revoked=True)) == 1


async def test_the_event_log_hands_out_ids_in_order_and_reads_after_an_id(db: Database) -> None:
    log = EventLogRepository(db)
    assert await log.latest_id() == 0
    ids = await log.append([("a", {"n": 1}), ("b", {"n": 2}), ("a", {"n": 3})], T0)
    assert ids == sorted(ids)
    assert await log.latest_id() == ids[-1]
    after = await log.after(ids[0])
    assert [(e.kind, e.data["n"]) for e in after] == [("b", 2), ("a", 3)]
    assert [e.data["n"] for e in await log.after(0, kinds={"a"})] == [1, 3]


async def test_concurrent_appends_never_leave_a_gap_behind_a_reader(db: Database) -> None:
    log = EventLogRepository(db)
    await asyncio.gather(*(log.append([("x", {"n": i})], T0) for i in range(20)))
    seen = [e.id for e in await log.after(0)]
    assert seen == sorted(seen)
    assert len(seen) == 20


async def test_old_events_are_pruned(db: Database) -> None:
    log = EventLogRepository(db)
    await log.append([("old", {})], T0)
    await log.append([("new", {})], at(120))
    assert await log.prune(at(60)) == 1
    assert [e.kind for e in await log.after(0)] == ["new"]


async def test_rollups_merge_batches_additively(db: Database) -> None:
    rollups = RollupRepository(db)
    for duration in (100.0, 300.0):
        batch = RollupBatch()
        batch.add_result(execution(at(0.5), duration_ms=duration))
        batch.add_result(execution(at(1.5), duration_ms=duration, status=ExecutionStatus.FAILED))
        await rollups.apply(batch)
    minutes = await rollups.series("minute", "checkout", WHOLE, T0, at(60))
    assert [(p.bucket, p.cell.count, p.cell.failures) for p in minutes] == [
        (at(0), 2, 0),
        (at(1), 2, 2),
    ]
    [hour] = await rollups.series("hour", "checkout", WHOLE, T0, at(60))
    assert (hour.cell.count, hour.cell.succeeded, hour.cell.failures) == (4, 2, 2)
    assert hour.cell.histogram.min_ms == 100.0
    assert hour.cell.histogram.max_ms == 300.0
    steps = await rollups.series("hour", "checkout", "home", T0, at(60))
    assert steps[0].cell.count == 4
    totals = await rollups.totals("hour", T0)
    assert totals["checkout"].count == 4
    assert await rollups.counts("checkout", [T0, at(120)]) == [(4, 2), (0, 0)]


async def test_missed_and_cancelled_runs_are_not_rolled_up(db: Database) -> None:
    batch = RollupBatch()
    batch.add_result(execution(at(0), status=ExecutionStatus.MISSED))
    batch.add_result(execution(at(0), status=ExecutionStatus.CANCELLED))
    assert len(batch) == 0
    await RollupRepository(db).apply(batch)
    assert await RollupRepository(db).is_empty()


async def test_backfill_builds_the_same_rollups_as_live_updates(db: Database) -> None:
    results = [
        execution(at(i * 7), duration_ms=50.0 + i * 13, status=status)
        for i, status in enumerate([ExecutionStatus.SUCCEEDED] * 8 + [ExecutionStatus.ERROR] * 3)
    ]
    await ExecutionRepository(db).record_many(results)
    live = RollupBatch()
    for r in results:
        live.add_result(r)
    rollups = RollupRepository(db)
    assert await backfill(db, chunk=4) == len(results)
    stored = await rollups.series("minute", "checkout", WHOLE, T0, at(600))
    expected = sorted(live.cells["minute"].items())
    mine = [(("checkout", WHOLE, p.bucket), p.cell) for p in stored]
    wanted = [(k, c) for k, c in expected if k[1] == WHOLE]
    assert [(k, c.count, c.failures, c.histogram.bins) for k, c in mine] == [
        (k, c.count, c.failures, c.histogram.bins) for k, c in wanted
    ]
    # Rebuilding recomputes the whole hours: twice gives the same as once.
    await rebuild(db, until=at(24 * 60))
    await rebuild(db, until=at(24 * 60))
    totals = await rollups.totals("hour", T0)
    assert (totals["checkout"].count, totals["checkout"].failures) == (11, 3)


async def test_a_once_only_claim_is_won_by_one_caller(db: Database) -> None:
    state = StateRepository(db)
    outcomes = await asyncio.gather(*(state.claim("x", str(i), T0) for i in range(5)))
    assert sorted(outcomes) == [False] * 4 + [True]
    assert await state.get("x") is not None


async def test_retention_prunes_each_kind_of_data_at_its_own_age(db: Database) -> None:
    now = T0 + timedelta(days=500)
    clock = FakeClock(now)
    executions = ExecutionRepository(db)
    await executions.record_many(
        [
            execution(now - timedelta(days=45), duration_ms=1),  # raw: gone; hourly: kept
            execution(now - timedelta(days=10), duration_ms=2),  # kept
            execution(now - timedelta(days=450), duration_ms=3),  # all gone
        ]
    )
    batch = RollupBatch()
    for days in (45, 10, 450):
        batch.add_result(execution(now - timedelta(days=days)))
    rollups = RollupRepository(db)
    await rollups.apply(batch)
    log = EventLogRepository(db)
    await log.append([("old", {})], now - timedelta(hours=30))
    await log.append([("new", {})], now - timedelta(hours=1))
    policy = RetentionPolicy(batch=1, pause_s=0)  # batches of one: the loop is exercised
    report = await Retention(db, clock, policy).prune_once()
    assert report.executions == 2
    assert [r.duration_ms for r in await executions.list()] == [2]
    minutes = await rollups.series("minute", "checkout", WHOLE, now - timedelta(days=600))
    assert len(minutes) == 1  # as long as raw rows: 10 days
    hours = await rollups.series("hour", "checkout", WHOLE, now - timedelta(days=600))
    assert len(hours) == 2  # 400 days: 45 and 10
    assert [e.kind for e in await log.after(0)] == ["new"]


async def test_retention_prunes_old_notifications_resolved_alerts_and_ended_analytics(
    db: Database,
) -> None:
    """Pass: with the default policy at T0 + 500 days, resolved alerts older than 400 days
    go with their events and notifications, sent notifications older than 90 days go,
    pending ones and unresolved alerts stay whatever their age, and anomaly episodes and
    incidents that ended more than 400 days ago go while open ones stay."""
    now = T0 + timedelta(days=500)

    async def alert(key: str, state: str, changed: datetime) -> int:
        async with db.write() as conn:
            row = await conn.execute(
                sa.insert(alerts)
                .values(
                    dedup_key=key,
                    episode=1,
                    rule="r",
                    kind="consecutive_failures",
                    severity="critical",
                    state=state,
                    summary="s",
                    workflow="w",
                    location=None,
                    group_key="g",
                    tags=[],
                    opened_at=changed,
                    changed_at=changed,
                    details={},
                    version=1,
                )
                .returning(alerts.c.id)
            )
            alert_id = int(row.scalar_one())
            event = await conn.execute(
                sa.insert(alert_events)
                .values(
                    alert_id=alert_id,
                    at=changed,
                    kind="opened",
                    actor="system",
                    from_state=None,
                    to_state=state,
                    reason="r",
                    message="m",
                    execution_ids=[],
                    note=None,
                    data={},
                )
                .returning(alert_events.c.id)
            )
            event_id = int(event.scalar_one())
            for status in ("sent", "pending"):
                await conn.execute(
                    sa.insert(notifications).values(
                        event_id=event_id,
                        alert_id=alert_id,
                        channel="hook",
                        group_key="g",
                        status=status,
                        created_at=changed,
                        due_at=changed,
                        attempts=1,
                    )
                )
        return alert_id

    await alert("a", "resolved", now - timedelta(days=450))  # goes, with its trail
    old_firing = await alert("b", "firing", now - timedelta(days=450))
    recent = await alert("c", "resolved", now - timedelta(days=100))
    async with db.write() as conn:
        for ended in (now - timedelta(days=401), None, now - timedelta(days=10)):
            started = (ended or now) - timedelta(hours=1)
            await conn.execute(
                sa.insert(anomalies).values(
                    workflow="w",
                    step="",
                    metric="duration",
                    started_at=started,
                    ended_at=ended,
                    peak_score=0.9,
                    value=1.0,
                    expected_low=0.0,
                    expected_high=1.0,
                    reason="r",
                )
            )
            await conn.execute(
                sa.insert(incidents).values(
                    key=f"k{started.timestamp()}",
                    host="h",
                    cause="c",
                    started_at=started,
                    last_at=started,
                    ended_at=ended,
                    failures=2,
                    workflows=["w"],
                    endpoints=[],
                    steps=[],
                    description="d",
                )
            )
    report = await Retention(db, FakeClock(now), RetentionPolicy(batch=1, pause_s=0)).prune_once()
    assert (report.alerts, report.analytics) == (1, 2)
    async with db.read() as conn:
        left = {r.id for r in await conn.execute(sa.select(alerts.c.id))}
        kept = [
            (r.alert_id, r.status)
            for r in await conn.execute(sa.select(notifications.c.alert_id, notifications.c.status))
        ]
        anomaly_ends = [r.ended_at for r in await conn.execute(sa.select(anomalies.c.ended_at))]
        incident_ends = [r.ended_at for r in await conn.execute(sa.select(incidents.c.ended_at))]
    assert left == {old_firing, recent}
    # Sent ones older than 90 days go (all three alerts'), pending ones stay unless their
    # resolved alert went.
    assert sorted(kept) == sorted([(old_firing, "pending"), (recent, "pending")])
    assert report.notifications == 3
    assert sorted(e is None for e in anomaly_ends) == [False, True]
    assert len(incident_ends) == 2
