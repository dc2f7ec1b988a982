"""WorkflowRepository.sync: the table follows the config, history is never deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from wfmon.domain.workflow import Schedule, Workflow
from wfmon.storage import Database, SyncReport, WorkflowRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)


def workflow(name: str, version: str = "v1", **changes: Any) -> Workflow:
    fields: dict[str, Any] = {
        "name": name,
        "steps": (),
        "schedule": Schedule(cron="*/5 * * * *", timezone="Europe/Paris"),
        "tags": ("shop", "critical"),
        "version": version,
        "source": f"wfmon.yaml:{len(name)}",
        "definition": {"name": name, "schedule": "*/5 * * * *", "steps": [{"get": "/"}]},
    }
    fields.update(changes)
    return Workflow(**fields)


@pytest.fixture
def repo(db: Database) -> WorkflowRepository:
    return WorkflowRepository(db)


async def test_sync_adds_changes_and_removes(repo: WorkflowRepository) -> None:
    first = await repo.sync([workflow("checkout"), workflow("search"), workflow("login")], T0)
    assert first == SyncReport(added=("checkout", "login", "search"))

    second = await repo.sync([workflow("checkout", "v2"), workflow("search")], T1)
    assert second == SyncReport(changed=("checkout",), removed=("login",))

    assert (await repo.sync([workflow("checkout", "v2"), workflow("search")], T2)).unchanged

    stored = {w.name: w for w in await repo.list()}
    assert sorted(stored) == ["checkout", "search"]
    checkout = stored["checkout"]
    assert (checkout.version, checkout.created_at, checkout.updated_at) == ("v2", T0, T1)
    assert checkout.schedule == "cron */5 * * * * (Europe/Paris)"
    assert checkout.tags == ("shop", "critical")
    assert checkout.definition["steps"] == [{"get": "/"}]
    assert checkout.enabled is True
    assert stored["search"].updated_at == T0  # untouched


async def test_a_removed_workflow_keeps_its_row_and_can_come_back(
    repo: WorkflowRepository,
) -> None:
    await repo.sync([workflow("checkout"), workflow("login")], T0)
    await repo.sync([workflow("checkout")], T1)

    login = await repo.get("login")
    assert login is not None
    assert login.removed_at == T1
    assert login.removed
    assert [w.name for w in await repo.list(include_removed=True)] == ["checkout", "login"]

    back = await repo.sync([workflow("checkout"), workflow("login")], T2)

    assert back == SyncReport(added=("login",))
    login_again = await repo.get("login")
    assert login_again is not None
    assert (login_again.id, login_again.removed_at, login_again.created_at) == (login.id, None, T0)


async def test_a_moved_workflow_gets_its_new_source_without_being_reported(
    repo: WorkflowRepository,
) -> None:
    await repo.sync([workflow("checkout", source="a.yaml:1")], T0)

    report = await repo.sync([workflow("checkout", source="a.yaml:40")], T1)

    assert report.unchanged
    stored = await repo.get("checkout")
    assert stored is not None
    assert stored.source == "a.yaml:40"


async def test_sync_stores_read_only_definitions_and_refuses_duplicate_names(
    repo: WorkflowRepository,
) -> None:
    frozen = workflow("checkout", definition=MappingProxyType({"steps": ({"get": "/"},)}))
    await repo.sync([frozen], T0)
    stored = await repo.get("checkout")
    assert stored is not None
    assert stored.definition == {"steps": [{"get": "/"}]}

    with pytest.raises(ValueError, match="unique"):
        await repo.sync([workflow("a"), workflow("a")], T1)


async def test_get_of_an_unknown_workflow_is_none(repo: WorkflowRepository) -> None:
    assert await repo.get("nope") is None
