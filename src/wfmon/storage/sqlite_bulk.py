"""The SQLite fast path for recording batches of results.

SQLAlchemy's per-row parameter processing (type decorators, JSON serialisers, datetime
formatting) cost about 30 µs per execution on the event-loop thread, most of what recording
cost the run engine. Here rows are built as tuples in the exact storage format SQLAlchemy
uses for these columns (naive UTC text timestamps, JSON text, 0/1 booleans), and sent to the
driver directly: one multi-row INSERT ... RETURNING for the executions, one executemany for
the steps. Reading back goes through the normal tables, so both paths must agree: the
storage tests run every recording test through this path on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from wfmon.domain.run import ExecutionResult, ExecutionStatus, StepResult
from wfmon.errors import StorageError
from wfmon.storage.db import dumps_json
from wfmon.storage.records import assertion_to_json, clean_text

EXECUTION_COLUMNS = (
    "workflow", "location", "slot_at", "trigger", "status", "attempts", "started_at",
    "finished_at", "duration_ms", "error", "workflow_version", "claimed_by",
)  # fmt: skip
STEP_COLUMNS = (
    "execution_id", "position", "name", "type", "status", "started_at", "dns_ms",
    "connect_ms", "tls_ms", "ttfb_ms", "total_ms", "response_status", "error", "assertions",
    "extracted", "request", "response_headers", "body_excerpt", "body_truncated", "redirects",
)  # fmt: skip
SlotText = tuple[str, str, str]  # (workflow, location, slot_at as stored)
# SQLite allows 32,766 bound variables per statement: stay well below.
MAX_ROWS_PER_INSERT = 2000

_ROW = "(" + ", ".join("?" * len(EXECUTION_COLUMNS)) + ")"
# Built from the constant column names above, never from data: no injection surface.
_INSERT_HEAD = f"INSERT INTO executions ({', '.join(EXECUTION_COLUMNS)}) VALUES "  # noqa: S608
_INSERT_TAIL = (
    " ON CONFLICT (workflow, location, slot_at) DO NOTHING"
    " RETURNING id, workflow, location, slot_at"
)
_INSERT_STEPS = (
    f"INSERT INTO step_results ({', '.join(STEP_COLUMNS)}) "  # noqa: S608  # constants only
    f"VALUES ({', '.join('?' * len(STEP_COLUMNS))})"
)


def stamp(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores: naive UTC with microseconds."""
    if value.tzinfo is not UTC:
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: wfmon stores timezone-aware times")
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _execution(result: ExecutionResult) -> tuple[Any, ...]:
    return (
        result.workflow,
        result.location,
        stamp(result.slot_at),
        result.trigger,
        result.status.value,
        result.attempts,
        stamp(result.started_at),
        stamp(result.finished_at),
        result.duration_ms,
        clean_text(result.reason),
        result.workflow_version,
        None,
    )


def _steps(execution_id: int, steps: Sequence[StepResult]) -> list[tuple[Any, ...]]:
    rows = []
    for position, step in enumerate(steps):
        t = step.timings
        rows.append(
            (
                execution_id,
                position,
                step.name,
                step.type,
                step.status.value,
                stamp(step.started_at),
                t.dns_ms,
                t.connect_ms,
                t.tls_ms,
                t.ttfb_ms,
                t.total_ms,
                step.response_status,
                clean_text(step.error),
                dumps_json([assertion_to_json(a) for a in step.assertions]),
                dumps_json(step.extracted),
                dumps_json(step.request),
                dumps_json(step.response_headers),
                clean_text(step.body_excerpt),
                int(step.body_truncated),
                dumps_json(list(step.redirects)),
            )
        )
    return rows


async def record_many(
    conn: AsyncConnection, results: Sequence[ExecutionResult]
) -> list[int | None]:
    """Insert finished executions and their steps; ids in input order (None: slot taken).

    A value that cannot be stored (a naive datetime) is a permanent StorageError, as on the
    SQLAlchemy path, so the recorder retries the rest of the batch without it.
    """
    for result in results:
        if result.status is ExecutionStatus.RUNNING:  # a caller's mistake, not bad data
            raise ValueError(f"{result.workflow}: only finished executions can be recorded")
    try:
        rows = [_execution(r) for r in results]
    except ValueError as error:
        raise _refused(error) from error
    new_ids: dict[tuple[str, str, str], int] = {}
    for start in range(0, len(rows), MAX_ROWS_PER_INSERT):
        chunk = rows[start : start + MAX_ROWS_PER_INSERT]
        sql = _INSERT_HEAD + ", ".join([_ROW] * len(chunk)) + _INSERT_TAIL
        params = tuple(value for row in chunk for value in row)
        inserted = await conn.exec_driver_sql(sql, params)
        for new in inserted.all():
            values: tuple[Any, ...] = tuple(new)
            new_ids[(values[1], values[2], values[3])] = values[0]
    ids: list[int | None] = []
    steps: list[tuple[Any, ...]] = []
    for result, mine in zip(results, rows, strict=True):
        # pop: a second result for the same slot gets None, like an existing slot.
        execution_id = new_ids.pop((mine[0], mine[1], mine[2]), None)
        ids.append(execution_id)
        if execution_id is not None and result.steps:
            try:
                steps.extend(_steps(execution_id, result.steps))
            except ValueError as error:
                raise _refused(error) from error
    if steps:
        await conn.exec_driver_sql(_INSERT_STEPS, steps)
    return ids


_SELECT_RUNNING = "SELECT id FROM executions WHERE status = 'running' AND id IN "
_FINISH = (
    "UPDATE executions SET status = ?, attempts = ?, started_at = ?, finished_at = ?,"
    " duration_ms = ?, error = ?, workflow_version = COALESCE(?, workflow_version)"
    " WHERE id = ? AND status = 'running'"
)


async def claim_many(conn: AsyncConnection, rows: Sequence[tuple[Any, ...]]) -> dict[SlotText, int]:
    """Insert `running` executions (rows as `claim_row` builds them), skipping slots that
    have one; the new ids by (workflow, location, slot_at as stored)."""
    new_ids: dict[SlotText, int] = {}
    for start in range(0, len(rows), MAX_ROWS_PER_INSERT):
        chunk = rows[start : start + MAX_ROWS_PER_INSERT]
        sql = _INSERT_HEAD + ", ".join([_ROW] * len(chunk)) + _INSERT_TAIL
        params = tuple(value for row in chunk for value in row)
        for new in (await conn.exec_driver_sql(sql, params)).all():
            values: tuple[Any, ...] = tuple(new)
            new_ids[(values[1], values[2], values[3])] = values[0]
    return new_ids


def claim_row(
    workflow: str,
    location: str,
    slot_at: datetime,
    started_at: datetime,
    trigger: str,
    claimed_by: str | None,
    workflow_version: str | None,
) -> tuple[Any, ...]:
    """A claimed slot's row, in `EXECUTION_COLUMNS` order (ValueError: a naive time)."""
    return (
        workflow,
        location,
        stamp(slot_at),
        trigger,
        ExecutionStatus.RUNNING.value,
        1,
        stamp(started_at),
        None,
        None,
        None,
        workflow_version,
        claimed_by,
    )


async def finish_many(
    conn: AsyncConnection, items: Sequence[tuple[int, ExecutionResult]]
) -> list[bool]:
    """Complete claimed executions with their outcomes and steps, in the caller's
    transaction (BEGIN IMMEDIATE: nobody writes between the read and the updates). Only
    rows still `running` change; one entry per item, True where it did."""
    try:
        updates = [(execution_id, _finish_values(result)) for execution_id, result in items]
    except ValueError as error:
        raise _refused(error) from error
    ids = sorted({execution_id for execution_id, _ in items})
    running: set[int] = set()
    for start in range(0, len(ids), MAX_ROWS_PER_INSERT):
        chunk = ids[start : start + MAX_ROWS_PER_INSERT]
        sql = _SELECT_RUNNING + "(" + ", ".join("?" * len(chunk)) + ")"
        running.update(row[0] for row in (await conn.exec_driver_sql(sql, tuple(chunk))).all())
    done: list[bool] = []
    params: list[tuple[Any, ...]] = []
    steps: list[tuple[Any, ...]] = []
    for (execution_id, result), (_, values) in zip(items, updates, strict=True):
        applies = execution_id in running
        running.discard(execution_id)  # an id twice in one batch: only the first applies
        done.append(applies)
        if not applies:
            continue
        params.append((*values, execution_id))
        if result.steps:
            try:
                steps.extend(_steps(execution_id, result.steps))
            except ValueError as error:
                raise _refused(error) from error
    if params:
        await conn.exec_driver_sql(_FINISH, params)
    if steps:
        await conn.exec_driver_sql(_INSERT_STEPS, steps)
    return done


def _finish_values(result: ExecutionResult) -> tuple[Any, ...]:
    if result.status is ExecutionStatus.RUNNING:
        raise ValueError(f"{result.workflow}: a finished execution cannot be `running`")
    return (
        result.status.value,
        result.attempts,
        stamp(result.started_at),
        stamp(result.finished_at),
        result.duration_ms,
        clean_text(result.reason),
        result.workflow_version,
    )


def _refused(error: ValueError) -> StorageError:
    wrapped = StorageError(f"recording refused a value: {error}")
    wrapped.permanent = True
    return wrapped
