"""The API on a real server on loopback: `api` over SQLite, `api_both` over each engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api_support import Harness, running_api
from support import Lab
from wfmon.storage import Database, open_database


@pytest.fixture
async def api(tmp_path: Path, lab: Lab) -> AsyncIterator[Harness]:
    """Most API tests: SQLite only (the routes do not depend on the engine)."""
    db = await open_database(f"sqlite:///{tmp_path / 'data' / 'wfmon.db'}")
    try:
        async with running_api(db, tmp_path, lab.base_url) as harness:
            yield harness
    finally:
        await db.dispose()


@pytest.fixture
async def api_both(db: Database, tmp_path: Path, lab: Lab) -> AsyncIterator[Harness]:
    """Where storage matters (events, pagination, rollups): SQLite and PostgreSQL."""
    async with running_api(db, tmp_path, lab.base_url) as harness:
        yield harness
