"""Opening databases: URLs, per-connection settings, migrations, health."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from wfmon.errors import StorageError
from wfmon.storage import Database, open_database
from wfmon.storage.db import VERSION_TABLE, dumps_json, to_async_url
from wfmon.storage.tables import metadata


def _expected_tables() -> set[str]:
    # Every feature registers its tables on the shared metadata (storage/__init__ imports
    # them), and its migration creates them: the two must agree.
    return set(metadata.tables) | {VERSION_TABLE}


async def _tables(db: Database) -> set[str]:
    async with db.read() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def test_migrations_apply_from_empty_and_are_idempotent(empty_database_url: str) -> None:
    db = await open_database(empty_database_url, upgrade=False)
    try:
        assert await _tables(db) == set()
        assert await db.current_revision() is None

        await db.upgrade()
        await db.upgrade()  # a restart: nothing to do, nothing fails

        assert await _tables(db) == _expected_tables()
        assert await db.current_revision() == Database.head_revision()
    finally:
        await db.dispose()
    # open_database migrates by default, and again is a no-op.
    reopened = await open_database(empty_database_url)
    await reopened.dispose()


async def test_migrations_match_the_table_definitions(db: Database) -> None:
    def diff(conn: sa.Connection) -> list[object]:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        return list(compare_metadata(context, metadata))

    async with db.read() as conn:
        assert await conn.run_sync(diff) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Each accepted spelling, and the async driver it gets.
        ("sqlite:///data/wfmon.db", "sqlite+aiosqlite:///data/wfmon.db"),
        ("sqlite+aiosqlite:////abs/wfmon.db", "sqlite+aiosqlite:////abs/wfmon.db"),
        ("postgresql://u:p@h:5432/d", "postgresql+asyncpg://u:p@h:5432/d"),
        ("postgres://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
        # libpq's sslmode, renamed for asyncpg.
        ("postgres://u@h/d?sslmode=require", "postgresql+asyncpg://u@h/d?ssl=require"),
    ],
)
def test_urls_get_their_async_driver(url: str, expected: str) -> None:
    assert to_async_url(url).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:secret@h/d",  # unsupported engine
        "postgresql+psycopg2://u:secret@h/d",  # unsupported driver
        "sqlite://",  # in-memory
        "sqlite:///:memory:",
        "not a url",
    ],
)
def test_unusable_urls_are_refused_with_a_hint_and_no_password(url: str) -> None:
    with pytest.raises(StorageError, match="hint") as caught:
        to_async_url(url)
    assert caught.value.permanent
    assert "secret" not in str(caught.value)


async def test_sqlite_creates_its_directory_and_tunes_every_connection(tmp_path: Path) -> None:
    db = await open_database(f"sqlite:///{tmp_path / 'a' / 'b' / 'wfmon.db'}")
    try:
        assert (tmp_path / "a" / "b" / "wfmon.db").exists()
        async with db.read() as conn:
            pragmas = {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
        # synchronous=NORMAL is 1
        assert pragmas == {
            "journal_mode": "wal",
            "synchronous": 1,
            "foreign_keys": 1,
            "busy_timeout": 15000,
        }
    finally:
        await db.dispose()


async def test_ping_measures_a_round_trip(db: Database) -> None:
    assert await db.ping() >= 0.0


async def test_ping_of_an_unreachable_server_raises_a_transient_storage_error() -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    db = await open_database("postgresql://wfmon:secret@127.0.0.1:9/none", upgrade=False)
    try:
        with pytest.raises(StorageError) as caught:
            await db.ping()
        assert not caught.value.permanent
    finally:
        await db.dispose()


async def test_redacted_url_masks_the_password() -> None:
    db = await open_database("postgresql://wfmon:s3cret@db.example:5432/wfmon", upgrade=False)
    try:
        assert db.redacted_url == "postgresql+asyncpg://wfmon:***@db.example:5432/wfmon"
        assert db.dialect == "postgresql"
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": (1, 2)}, '{"a":[1,2]}'),  # tuples become lists
        ({1: "x"}, '{"1":"x"}'),  # non-text keys become text
        ({"big": 2**70}, '{"big": 1180591620717411303424}'),  # beyond orjson: json fallback
        ({"s": {"b"}}, '{"s":["b"]}'),  # sets become lists
        ({"nul": "a\x00b"}, '{"nul":"a\\ufffdb"}'),  # NUL, refused by jsonb
        ({"text": "\\u0000"}, '{"text":"\\\\u0000"}'),  # an escaped backslash is kept
    ],
)
def test_json_for_the_database_never_fails_a_batch(value: object, expected: str) -> None:
    assert dumps_json(value) == expected
