"""Opening the database: URL handling, engine tuning per dialect, migrations, health.

`open_database()` is the one way in. It returns a `Database`, which the repositories use
through `read()` and `write()`; nothing outside storage/ touches the engine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from wfmon.clock import Clock, SystemClock
from wfmon.errors import StorageError

log = logging.getLogger(__name__)

DialectName = Literal["sqlite", "postgresql"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Not Alembic's default `alembic_version`: a PostgreSQL database shared with another
# Alembic-managed app would otherwise see the other app's revision and refuse to start.
VERSION_TABLE = "wfmon_alembic_version"
# Serialises `upgrade()` across processes on PostgreSQL (several schedulers starting at
# once); the key is arbitrary but fixed: "wfmon" in ASCII.
_MIGRATION_LOCK_KEY = 0x77666D6F6E

# An execution option marking a connection that will write. On SQLite such transactions
# start with BEGIN IMMEDIATE: a deferred transaction that reads and then writes fails at
# once with SQLITE_BUSY (busy_timeout cannot help) when another connection wrote meanwhile.
_WRITE_OPTION = "wfmon_write"

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # readers never block the writer nor the reverse
    "PRAGMA synchronous=NORMAL",  # durable at checkpoints; WAL keeps the file consistent
    "PRAGMA foreign_keys=ON",  # off by default in SQLite, per connection
    # Wait for the write lock rather than fail: the daemon's writers (scheduler, journal,
    # alerting, analytics) take turns, and a loaded machine stretches each turn.
    "PRAGMA busy_timeout=15000",
)

# Constraint, data and SQL errors come back the same on a retry; anything else (lost
# connections, locks, timeouts, a server restarting) may pass.
_PERMANENT = (exc.IntegrityError, exc.DataError, exc.ProgrammingError, exc.NotSupportedError)


def storage_error(error: BaseException, doing: str) -> StorageError:
    """Wrap a driver error in the project's tree, saying whether a retry can help."""
    cause = error.orig if isinstance(error, exc.DBAPIError) and error.orig else error
    wrapped = StorageError(f"{doing}: {type(cause).__name__}: {str(cause)[:500]}")
    wrapped.permanent = isinstance(error, _PERMANENT) or (
        # Raised before reaching the database: a value that cannot be bound.
        isinstance(error, exc.StatementError) and not isinstance(error, exc.DBAPIError)
    )
    return wrapped


DB_ERRORS: tuple[type[BaseException], ...] = (exc.SQLAlchemyError, OSError, TimeoutError)

# `\u0000` that is not itself escaped (preceded by an even run of backslashes).
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):  # e.g. a read-only MappingProxyType from config
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def dumps_json(value: Any) -> str:
    """JSON for the database: fast, and never the reason a batch of results is lost.

    Extracted values and assertion operands come from arbitrary responses, so anything
    orjson cannot encode becomes text, and NUL (which PostgreSQL's jsonb refuses) becomes
    U+FFFD, rather than failing the insert of the whole batch it travels in.
    """
    try:
        text = orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError: e.g. an integer wider than 64 bits
        text = json.dumps(value, default=str, ensure_ascii=False)
    if "\\u0000" in text:
        text = _JSON_NUL.sub(r"\1\\ufffd", text)
    return text


def to_async_url(url: str) -> sa.URL:
    """`sqlite:///path` and `postgresql://` / `postgres://` URLs, with their async driver."""
    try:
        parsed = sa.make_url(url)
    except exc.ArgumentError as error:
        raise _bad_url(url, "it cannot be parsed") from error
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "aiosqlite"):
        if parsed.database in (None, "", ":memory:"):
            # A memory database lives in one connection, which the pool would share between
            # concurrent tasks and their transactions; a file in a temp dir is as fast.
            raise _bad_url(url, "in-memory SQLite is not supported; give a file path")
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres") and driver in ("", "asyncpg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
        # libpq spells it sslmode; asyncpg takes the same values as `ssl`.
        if "sslmode" in parsed.query:
            ssl = parsed.query["sslmode"]
            parsed = parsed.difference_update_query(["sslmode"]).update_query_dict({"ssl": ssl})
        return parsed
    raise _bad_url(url, f"unsupported scheme {parsed.drivername!r}")


def _bad_url(url: str, why: str) -> StorageError:
    safe = re.sub(r"://([^:/@]*):[^@/]*@", r"://\1:***@", url)
    error = StorageError(
        f"database URL {safe!r}: {why} "
        "(hint: sqlite:///path/to/wfmon.db or postgresql://user:password@host:5432/dbname)"
    )
    error.permanent = True
    return error


class Database:
    """An open database: the engine, its dialect, migrations and a health probe."""

    def __init__(self, engine: AsyncEngine, *, clock: Clock | None = None) -> None:
        self.engine = engine
        name = engine.dialect.name
        assert name in ("sqlite", "postgresql"), name
        self.dialect: DialectName = "sqlite" if name == "sqlite" else "postgresql"
        self._writer = engine.execution_options(**{_WRITE_OPTION: True})
        self._clock: Clock = clock or SystemClock()

    @property
    def redacted_url(self) -> str:
        """The URL with its password masked, for logs and `wfmon db status`."""
        return self.engine.url.render_as_string(hide_password=True)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for queries; driver errors surface as StorageError."""
        try:
            async with self.engine.connect() as conn:
                yield conn
        except DB_ERRORS as error:
            raise storage_error(error, "database read failed") from error

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits on success and rolls back on any exception."""
        try:
            async with self._writer.begin() as conn:
                yield conn
        except DB_ERRORS as error:
            raise storage_error(error, "database write failed") from error

    async def upgrade(self, revision: str = "heads") -> None:
        """Apply pending migrations (Alembic), in one transaction. Safe to call every start."""
        try:
            async with self.write() as conn:
                if self.dialect == "postgresql":
                    lock = sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK_KEY)
                    await conn.execute(sa.select(lock))
                await conn.run_sync(_run_upgrade, revision)
        except CommandError as error:
            # Typically a database migrated by a newer wfmon than this one.
            wrapped = StorageError(
                f"cannot migrate the database: {error} "
                "(hint: was it upgraded by a newer wfmon? `wfmon db status` shows its revision)"
            )
            wrapped.permanent = True
            raise wrapped from error

    async def current_revision(self) -> str | None:
        """The migration the database is at; None before the first `upgrade()`."""
        async with self.read() as conn:
            return await conn.run_sync(_current_revision)

    @staticmethod
    def head_revision() -> str | None:
        """The newest migration(s) this version of wfmon ships ("a+b" while features
        branch from a common parent: `upgrade()` applies every head)."""
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
        return "+".join(sorted(heads)) if heads else None

    async def ping(self, timeout_s: float = 5.0) -> float:
        """Round-trip time of a trivial query, in milliseconds; StorageError if it fails."""
        start = self._clock.monotonic()
        try:
            async with asyncio.timeout(timeout_s), self.engine.connect() as conn:
                await conn.execute(sa.select(1))
        except DB_ERRORS as error:
            raise storage_error(error, "database ping failed") from error
        return (self._clock.monotonic() - start) * 1000.0

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Alembic's configuration, built in code (no alembic.ini); see migrations/env.py."""
    config = Config()
    # ConfigParser interpolates `%`; a path may contain one.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("version_table", VERSION_TABLE)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _run_upgrade(connection: sa.Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def _current_revision(connection: sa.Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    heads = context.get_current_heads()
    return "+".join(sorted(heads)) if heads else None


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 driver, which skips it before SELECT and DDL (so
    # migrations would not be atomic); `_on_sqlite_begin` emits it instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _on_sqlite_begin(conn: sa.Connection) -> None:
    if conn.get_execution_options().get(_WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def create_engine(url: str) -> AsyncEngine:
    """An engine for `url`, tuned for its dialect; does not connect yet."""
    async_url = to_async_url(url)
    options: dict[str, Any] = {
        "json_serializer": dumps_json,
        "json_deserializer": orjson.loads,
        # Error messages and logs must not carry stored values (response bodies, tokens).
        "hide_parameters": True,
    }
    if async_url.drivername.startswith("sqlite"):
        assert async_url.database is not None
        Path(async_url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    else:
        # Survive a PostgreSQL restart without handing out dead pooled connections; the
        # cost is one round trip per checkout, small beside the batched writes.
        options["pool_pre_ping"] = True
        options["connect_args"] = {"timeout": 10}
    engine = create_async_engine(async_url, **options)
    if async_url.drivername.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
    return engine


async def open_database(url: str, *, upgrade: bool = True, clock: Clock | None = None) -> Database:
    """Open `url` (sqlite:///path or postgresql://...) and, unless told not to, migrate it.

    Raises StorageError with a hint when the URL is unusable or the database unreachable.
    """
    database = Database(create_engine(url), clock=clock)
    if upgrade:
        try:
            await database.upgrade()
        except BaseException:
            await database.dispose()
            raise
        log.info(
            "database ready",
            extra={"event": "storage.opened", "url": database.redacted_url},
        )
    return database
