"""HealthCheckRepository: the bot's self-checks over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wfmon.storage import Database, HealthCheckRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def repo(db: Database) -> HealthCheckRepository:
    return HealthCheckRepository(db)


async def test_latest_gives_each_checks_newest_result(repo: HealthCheckRepository) -> None:
    await repo.add(at(0), "database", True, 1.5, "ok", {"dialect": "sqlite"})
    await repo.add(at(1), "database", False, None, "timeout", {"error": "slow"})
    await repo.add(at(0), "scheduler", True, 0.1)

    latest = await repo.latest()

    assert [(c.name, c.ok, c.checked_at) for c in latest] == [
        ("database", False, at(1)),
        ("scheduler", True, at(0)),
    ]
    assert (latest[0].latency_ms, latest[0].detail, latest[0].data) == (
        None,
        "timeout",
        {"error": "slow"},
    )
    assert (latest[1].detail, latest[1].data) == ("", {})


async def test_list_since_by_name_and_prune(repo: HealthCheckRepository) -> None:
    for minute in range(5):
        await repo.add(at(minute), "database", True, float(minute))
        await repo.add(at(minute), "disk", True)

    recent = await repo.list(at(3), name="database")
    assert [c.latency_ms for c in recent] == [3.0, 4.0]
    assert len(await repo.list(at(3))) == 4

    assert await repo.prune(before=at(2)) == 4
    assert len(await repo.list(T0)) == 6
