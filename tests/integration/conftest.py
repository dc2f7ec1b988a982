"""Real databases for the storage tests: every test runs on SQLite and on PostgreSQL.

PostgreSQL: a fresh database per test session on the server in WFMON_TEST_PG_URL
(default postgres://postgres@127.0.0.1:5432/postgres, which is only used to create and
drop it), emptied between tests. Unreachable, the postgres cases are skipped locally and
fail in CI (CI=true), so a broken CI service cannot pass as green.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa

from wfmon.storage import Database, open_database
from wfmon.storage.tables import ALL_TABLES, metadata

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def _admin_url() -> str:
    return os.environ.get("WFMON_TEST_PG_URL") or DEFAULT_PG_URL


def _with_database(url: str, name: str) -> str:
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


async def _create_database(name: str) -> None:
    conn = await asyncpg.connect(_admin_url(), timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(name: str) -> None:
    conn = await asyncpg.connect(_admin_url(), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _new_database_name() -> str:
    return f"wfmon_test_{os.getpid()}_{secrets.token_hex(4)}"


def _unavailable(error: BaseException) -> None:
    message = f"PostgreSQL at {sa.make_url(_admin_url())!r} unavailable: {error!r}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database created for this session, dropped at its end."""
    name = _new_database_name()
    try:
        asyncio.run(_create_database(name))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        _unavailable(error)
    yield _with_database(_admin_url(), name)
    asyncio.run(_drop_database(name))


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated-or-not database of each engine (PostgreSQL shared by tests)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'wfmon.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """An open, migrated database with empty tables."""
    database = await open_database(database_url)
    if database.dialect == "postgresql":
        # Emptied before (not after) each test, so one that crashed cannot leak rows.
        # Every feature's tables (all registered on the shared metadata), not only the
        # initial ones: a row left by one test must not leak into the next.
        names = ", ".join(sorted({t.name for t in ALL_TABLES} | set(metadata.tables)))
        async with database.write() as conn:
            await conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def empty_database_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables at all, for migration tests (a new one on PostgreSQL)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty' / 'wfmon.db'}"
        return
    name = _new_database_name()
    await _create_database(name)
    try:
        yield _with_database(_admin_url(), name)
    finally:
        await _drop_database(name)
