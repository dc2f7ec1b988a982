"""The dashboard over HTTP, on a real server over SQLite with a day of seeded data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api_support import Harness, running_api
from support import Lab
from web_support import Seeded, seed
from wfmon.storage import open_database


@pytest.fixture
async def web(tmp_path: Path, lab: Lab) -> AsyncIterator[tuple[Harness, Seeded]]:
    db = await open_database(f"sqlite:///{tmp_path / 'data' / 'wfmon.db'}")
    try:
        async with running_api(db, tmp_path, lab.base_url) as harness:
            yield harness, await seed(harness, hours=6)
    finally:
        await db.dispose()
