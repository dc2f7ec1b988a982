"""Per-minute and per-hour aggregates of executions and steps: what charts read.

A rollup row is (workflow, step, bucket) -> runs, successes, failures and a latency
histogram (`domain.histogram`); `step` is "" for the workflow as a whole. They are kept up
to date as results arrive (`RollupBatch` collects a batch, `RollupRepository.apply` merges
it in), so a chart of a month reads 720 hourly rows, never the raw executions.

Merging is a read-modify-write of the touched rows in one transaction. On PostgreSQL the
transaction first takes an advisory lock, so two writers (a daemon and a separate API
process that ran a workflow by hand) cannot both read the old row and lose one update;
SQLite serialises writers already (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from wfmon.domain.histogram import Histogram, bins_from_json, bins_to_json
from wfmon.domain.run import ExecutionResult, ExecutionStatus, StepStatus
from wfmon.storage.db import Database, dumps_json
from wfmon.storage.sqlite_bulk import stamp
from wfmon.storage.tables_api import rollups_hour, rollups_minute

Tier = Literal["minute", "hour"]
TIERS: tuple[Tier, ...] = ("minute", "hour")
TIER_WIDTH: dict[Tier, timedelta] = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1)}
WHOLE = ""  # the step key of the workflow as a whole

# Outcomes of the target: what success rates and latencies are made of.
COUNTED = frozenset({"succeeded", "failed", "error", "timeout"})
FAILED = frozenset({"failed", "error", "timeout"})
assert {s.value for s in ExecutionStatus} >= COUNTED
assert {s.value for s in StepStatus} >= COUNTED

_VALUES = ("count", "succeeded", "failures", "sum_ms", "min_ms", "max_ms", "histogram")
_LOCK_KEY = 0x77666D6F6E + 4
_KEYS_PER_QUERY = 400


def table_of(tier: Tier) -> sa.Table:
    return rollups_minute if tier == "minute" else rollups_hour


def floor_to(when: datetime, tier: Tier) -> datetime:
    """The start of the bucket `when` falls in (UTC)."""
    when = when.astimezone(UTC)
    if tier == "minute":
        return when.replace(second=0, microsecond=0)
    return when.replace(minute=0, second=0, microsecond=0)


@dataclass
class Cell:
    """One rollup row: counts and a histogram."""

    count: int = 0
    succeeded: int = 0
    failures: int = 0
    histogram: Histogram = field(default_factory=Histogram)

    def add(self, status: str, duration_ms: float | None) -> None:
        self.count += 1
        if status == "succeeded":
            self.succeeded += 1
        elif status in FAILED:
            self.failures += 1
        if duration_ms is not None:
            self.histogram.add(duration_ms)

    def merge(self, other: Cell) -> None:
        self.count += other.count
        self.succeeded += other.succeeded
        self.failures += other.failures
        self.histogram.merge(other.histogram)

    @property
    def success_ratio(self) -> float | None:
        return self.succeeded / self.count if self.count else None


Key = tuple[str, str, datetime]  # (workflow, step, bucket)
# (bucket, count, succeeded, sum_ms, min_ms, max_ms, histogram or None)
SeriesRow = tuple[datetime, int, int, float, float | None, float | None, Any]


class RollupBatch:
    """Outcomes collected in memory, to be merged into both tiers in one go."""

    def __init__(self) -> None:
        self.cells: dict[Tier, dict[Key, Cell]] = {tier: {} for tier in TIERS}
        self.results = 0

    def __len__(self) -> int:
        return self.results

    def add(
        self, workflow: str, step: str, started_at: datetime, status: str, duration_ms: float | None
    ) -> None:
        """One outcome of a workflow (step "") or one of its steps; others are ignored."""
        if status not in COUNTED:
            return
        for tier in TIERS:
            key = (workflow, step, floor_to(started_at, tier))
            cells = self.cells[tier]
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = Cell()
            cell.add(status, duration_ms)

    def add_result(self, result: ExecutionResult) -> None:
        """An execution and its steps, bucketed by when the execution started."""
        status = result.status.value
        if status not in COUNTED:
            return
        self.results += 1
        self.add(result.workflow, WHOLE, result.started_at, status, result.duration_ms)
        for step in result.steps:
            self.add(
                result.workflow,
                step.name,
                result.started_at,
                step.status.value,
                step.timings.total_ms,
            )


@dataclass(frozen=True)
class RollupPoint:
    """A bucket of a series, or several merged."""

    bucket: datetime
    cell: Cell


class RollupRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def apply(self, batch: RollupBatch) -> int:
        """Merge a batch into the stored rollups; returns how many rows were written."""
        written = 0
        async with self._db.write() as conn:
            if self._db.dialect == "postgresql":
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
            for tier in TIERS:
                cells = batch.cells[tier]
                if cells:
                    written += await self._merge(conn, tier, cells)
        return written

    async def _merge(self, conn: AsyncConnection, tier: Tier, cells: dict[Key, Cell]) -> int:
        table = table_of(tier)
        buckets = sorted({k[2] for k in cells})
        workflows = sorted({k[0] for k in cells})
        for start in range(0, len(buckets), _KEYS_PER_QUERY):
            # By bucket (a batch touches few: the current minute and hour, or a backfill
            # chunk's), and by workflow when they are few: plain IN lists, which use the
            # indexes on both engines; rows of other keys are skipped below.
            query = sa.select(table).where(
                table.c.bucket.in_(buckets[start : start + _KEYS_PER_QUERY])
            )
            if len(workflows) <= _KEYS_PER_QUERY:
                query = query.where(table.c.workflow.in_(workflows))
            for row in (await conn.execute(query)).mappings():
                cell = cells.get((row["workflow"], row["step"], row["bucket"]))
                if cell is not None:
                    cell.merge(_cell(row))
        # The driver directly, values already in its storage format: SQLAlchemy's per-row
        # parameter processing was most of a backfill's time (a million executions make
        # four million rows).
        if self._db.dialect == "sqlite":
            rows = [_driver_row(k, c, stamp(k[2])) for k, c in cells.items()]
            await conn.exec_driver_sql(_SQLITE_UPSERT[tier], rows)
        else:
            rows = [_driver_row(k, c, k[2]) for k, c in cells.items()]
            await conn.exec_driver_sql(_PG_UPSERT[tier], rows)
        return len(cells)

    async def series(
        self,
        tier: Tier,
        workflow: str,
        step: str,
        since: datetime,
        until: datetime | None = None,
    ) -> builtins.list[RollupPoint]:
        """The buckets of one series in [since, until), oldest first."""
        table = table_of(tier)
        query = sa.select(table).where(
            table.c.workflow == workflow, table.c.step == step, table.c.bucket >= since
        )
        if until is not None:
            query = query.where(table.c.bucket < until)
        async with self._db.read() as conn:
            rows = (await conn.execute(query.order_by(table.c.bucket))).mappings().all()
        return [RollupPoint(r["bucket"], _cell(r)) for r in rows]

    async def series_rows(
        self,
        tier: Tier,
        workflow: str,
        step: str,
        since: datetime,
        until: datetime,
        *,
        histograms: bool = True,
    ) -> builtins.list[SeriesRow]:
        """The buckets of one series in [since, until), oldest first, as plain tuples
        (bucket, count, succeeded, sum_ms, min_ms, max_ms, histogram or None): what a
        chart needs, without building objects per bucket."""
        if self._db.dialect == "sqlite":
            return await self._sqlite_series(tier, workflow, step, since, until, histograms)
        table = table_of(tier)
        columns = [
            table.c.bucket,
            table.c.count,
            table.c.succeeded,
            table.c.sum_ms,
            table.c.min_ms,
            table.c.max_ms,
            table.c.histogram if histograms else sa.null(),
        ]
        query = (
            sa.select(*columns)
            .where(
                table.c.workflow == workflow,
                table.c.step == step,
                table.c.bucket >= since,
                table.c.bucket < until,
            )
            .order_by(table.c.bucket)
        )
        async with self._db.read() as conn:
            # One statement needs no transaction: skip BEGIN and ROLLBACK, two of the
            # four round trips a chart's read costs on PostgreSQL.
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            return [tuple(row) for row in await conn.execute(query)]

    async def _sqlite_series(
        self,
        tier: Tier,
        workflow: str,
        step: str,
        since: datetime,
        until: datetime,
        histograms: bool,
    ) -> builtins.list[SeriesRow]:
        # The driver directly: SQLAlchemy parses each stored time with a regular
        # expression and each histogram through its JSON type, most of an uncached
        # chart's cost; fromisoformat and orjson do the same in C.
        sql = _SQLITE_SERIES[tier] if histograms else _SQLITE_SERIES_COUNTS[tier]
        async with self._db.read() as conn:
            result = await conn.exec_driver_sql(sql, (workflow, step, stamp(since), stamp(until)))
            raw: builtins.list[tuple[Any, ...]] = [tuple(r) for r in result]
        return [
            (
                datetime.fromisoformat(r[0]).replace(tzinfo=UTC),
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                orjson.loads(r[6]) if histograms else None,
            )
            for r in raw
        ]

    async def totals(
        self, tier: Tier, since: datetime, *, step: str = WHOLE, workflow: str | None = None
    ) -> dict[str, Cell]:
        """Per workflow, every bucket since `since` merged into one cell."""
        table = table_of(tier)
        query = sa.select(table).where(table.c.step == step, table.c.bucket >= since)
        if workflow is not None:
            query = query.where(table.c.workflow == workflow)
        merged: dict[str, Cell] = defaultdict(Cell)
        async with self._db.read() as conn:
            for row in (await conn.execute(query)).mappings():
                merged[row["workflow"]].merge(_cell(row))
        return dict(merged)

    async def counts(
        self, workflow: str, since: Iterable[datetime], *, tier: Tier = "hour"
    ) -> builtins.list[tuple[int, int]]:
        """(runs, succeeded) of the workflow as a whole since each of the given times."""
        table = table_of(tier)
        found = []
        async with self._db.read() as conn:
            for start in since:
                query = sa.select(
                    sa.func.coalesce(sa.func.sum(table.c.count), 0),
                    sa.func.coalesce(sa.func.sum(table.c.succeeded), 0),
                ).where(
                    table.c.workflow == workflow, table.c.step == WHOLE, table.c.bucket >= start
                )
                runs, ok = (await conn.execute(query)).one()
                found.append((int(runs), int(ok)))
        return found

    async def steps(self, workflow: str, since: datetime) -> builtins.list[str]:
        """Names of the steps with rollups since `since` (hourly), sorted."""
        table = rollups_hour
        query = (
            sa.select(table.c.step)
            .where(table.c.workflow == workflow, table.c.step != WHOLE, table.c.bucket >= since)
            .distinct()
        )
        async with self._db.read() as conn:
            return sorted((await conn.execute(query)).scalars())

    async def is_empty(self) -> bool:
        async with self._db.read() as conn:
            found = (await conn.execute(sa.select(rollups_hour.c.workflow).limit(1))).first()
        return found is None

    async def delete(self, tier: Tier, since: datetime | None, until: datetime | None) -> int:
        """Delete the buckets in [since, until) (open ends: everything that way)."""
        table = table_of(tier)
        conditions: builtins.list[sa.ColumnElement[bool]] = []
        if since is not None:
            conditions.append(table.c.bucket >= since)
        if until is not None:
            conditions.append(table.c.bucket < until)
        async with self._db.write() as conn:
            result = await conn.execute(sa.delete(table).where(*conditions))
            return int(result.rowcount or 0)

    async def prune(self, tier: Tier, before: datetime, span: timedelta = timedelta(days=1)) -> int:
        """Delete buckets older than `before`, at most `span` of them per transaction so a
        writer never waits long; returns how many rows went."""
        table = table_of(tier)
        async with self._db.read() as conn:
            oldest = (await conn.execute(sa.select(sa.func.min(table.c.bucket)))).scalar_one()
        if oldest is None:
            return 0
        if isinstance(oldest, str):  # min() over the type decorator comes back raw on SQLite
            oldest = datetime.fromisoformat(oldest)
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        removed = 0
        while oldest < before:
            upto = min(before, oldest + span)
            async with self._db.write() as conn:
                result = await conn.execute(sa.delete(table).where(table.c.bucket < upto))
                removed += int(result.rowcount or 0)
            oldest = upto
        return removed


def merged(points: Sequence[RollupPoint]) -> Cell:
    """Every point's cell merged into one."""
    cell = Cell()
    for point in points:
        cell.merge(point.cell)
    return cell


def _cell(row: Any) -> Cell:
    bins = bins_from_json(row["histogram"])
    return Cell(
        count=int(row["count"]),
        succeeded=int(row["succeeded"]),
        failures=int(row["failures"]),
        histogram=Histogram(
            bins,
            sum(bins.values()),
            float(row["sum_ms"]),
            row["min_ms"],
            row["max_ms"],
        ),
    )


_COLUMNS = ("workflow", "step", "bucket", *_VALUES)
_UPDATE = ", ".join(f"{name} = excluded.{name}" for name in _VALUES)
_SQLITE_UPSERT = {
    tier: (
        f"INSERT INTO {table_of(tier).name} ({', '.join(_COLUMNS)}) "  # noqa: S608  # constants
        f"VALUES ({', '.join('?' * len(_COLUMNS))}) "
        f"ON CONFLICT (workflow, step, bucket) DO UPDATE SET {_UPDATE}"
    )
    for tier in TIERS
}
_PG_UPSERT = {
    tier: (
        f"INSERT INTO {table_of(tier).name} ({', '.join(_COLUMNS)}) "  # noqa: S608  # constants
        f"VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))}) "
        f"ON CONFLICT (workflow, step, bucket) DO UPDATE SET {_UPDATE}"
    )
    for tier in TIERS
}


_SERIES = (
    "SELECT bucket, count, succeeded, sum_ms, min_ms, max_ms, {histogram} FROM {table} "
    "WHERE workflow = ? AND step = ? AND bucket >= ? AND bucket < ? ORDER BY bucket"
)
_SQLITE_SERIES = {t: _SERIES.format(histogram="histogram", table=table_of(t).name) for t in TIERS}
_SQLITE_SERIES_COUNTS = {t: _SERIES.format(histogram="NULL", table=table_of(t).name) for t in TIERS}


def _driver_row(key: Key, cell: Cell, bucket: Any) -> tuple[Any, ...]:
    hist = cell.histogram
    return (
        key[0],
        key[1],
        bucket,
        cell.count,
        cell.succeeded,
        cell.failures,
        hist.sum_ms,
        hist.min_ms,
        hist.max_ms,
        dumps_json(bins_to_json(hist.bins)),
    )
