"""The stored facts alert rules judge: a subject's recent runs, step timings, certificate
days, what the newest failure said, the latest slot per workflow, the last heartbeat.

One small indexed query per subject (a backwards walk of executions' (workflow,
started_at) index), batched in one connection: the service evaluates hundreds of subjects
at once after an outage, and a window function over every workflow would rank the history.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from wfmon.alerts.facts import FailureFacts, Needs, Run, SubjectFacts
from wfmon.domain.run import ExecutionStatus, StepStatus
from wfmon.domain.workflow import Workflow
from wfmon.storage.db import Database
from wfmon.storage.stats import RAN_STATUSES
from wfmon.storage.tables import UTCDateTime, executions, health_checks, step_results, workflows

TLS_CHECK = "certificate days to expiry"  # the tls step's assertion (runner/steps/tls.py)
_RAN = [s.value for s in RAN_STATUSES]
_NOT_FAILED = (StepStatus.SUCCEEDED.value, StepStatus.SKIPPED.value)


class AlertFactsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def subjects(
        self,
        wanted: Sequence[tuple[Workflow, str | None, Needs]],
        now: datetime,
        max_window_runs: int = 200,
    ) -> list[SubjectFacts]:
        found: list[tuple[Workflow, str | None, list[Run]]] = []
        async with self._db.read() as conn:
            runs_of = await _runs(conn, wanted, now, max_window_runs)
            # Step timings and certificate days: one query each for every subject at once.
            step_ids = [
                r.id for i, (_, _, n) in enumerate(wanted) if n.steps for r in runs_of.get(i, [])
            ]
            names = {name for _, _, n in wanted for name in n.steps}
            step_ms = await _step_ms(conn, step_ids, names)
            tls_ids = [
                r.id for i, (_, _, n) in enumerate(wanted) if n.tls for r in runs_of.get(i, [])[:3]
            ]
            tls_days = await _tls_days(conn, tls_ids)
            for index, (workflow, location, needs) in enumerate(wanted):
                runs = runs_of.get(index, [])
                if needs.steps and runs:
                    runs = [_steps_of(r, step_ms.get(r.id, {}), needs.steps) for r in runs]
                if needs.tls and runs:
                    runs = [
                        replace(r, tls_days=tls_days[r.id]) if r.id in tls_days else r for r in runs
                    ]
                found.append((workflow, location, runs))
            # What went wrong, for subjects failing now: one query for all of them.
            failing = [runs[0].id for _, _, runs in found if runs and runs[0].failed]
            failures = await _failures(conn, failing)
        return [
            SubjectFacts(w, loc, tuple(runs), failures.get(runs[0].id) if runs else None)
            for w, loc, runs in found
        ]

    async def last_slots(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
        """The latest slot with an execution (running or finished, not `missed`) of each
        (workflow, location): what the dead man's switch compares with the schedule.

        Judged every few seconds, so never a GROUP BY over the whole history: each key is a
        backwards walk of the slot index (workflow, location, slot_at) that stops at its
        first row, 200 keys to a UNION ALL."""
        found: dict[tuple[str, str], datetime] = {}
        async with self._db.read() as conn:
            for start in range(0, len(keys), _PER_STATEMENT):
                selects = []
                for index, (workflow, location) in enumerate(keys[start : start + _PER_STATEMENT]):
                    one = (
                        sa.select(sa.literal(start + index).label("key"), executions.c.slot_at)
                        .where(
                            executions.c.workflow == workflow,
                            executions.c.location == location,
                            executions.c.status != ExecutionStatus.MISSED.value,
                        )
                        .order_by(executions.c.slot_at.desc())
                        .limit(1)
                        .subquery()
                    )
                    selects.append(sa.select(one))
                if selects:
                    for row in await conn.execute(sa.union_all(*selects)):
                        found[keys[row.key]] = row.slot_at
        return found

    async def known_since(self, names: Collection[str] | None = None) -> dict[str, datetime]:
        """When the database first saw each configured workflow (those named, if given)."""
        query = sa.select(workflows.c.name, workflows.c.created_at)
        if names is None:
            async with self._db.read() as conn:
                return {name: at for name, at in await conn.execute(query)}
        wanted = sorted(set(names))
        found: dict[str, datetime] = {}
        async with self._db.read() as conn:
            for start in range(0, len(wanted), 500):
                chunk = query.where(workflows.c.name.in_(wanted[start : start + 500]))
                found.update({name: at for name, at in await conn.execute(chunk)})
        return found

    async def last_heartbeat(self) -> datetime | None:
        last = sa.type_coerce(sa.func.max(health_checks.c.checked_at), UTCDateTime())
        query = sa.select(last).where(health_checks.c.name == "heartbeat")
        async with self._db.read() as conn:
            value: datetime | None = (await conn.execute(query)).scalar_one()
        return value


_RUN_COLUMNS = (
    executions.c.id,
    executions.c.started_at,
    executions.c.status,
    executions.c.duration_ms,
)
_NEWEST_FIRST = (executions.c.started_at.desc(), executions.c.id.desc())
_PER_STATEMENT = 200  # subjects per UNION ALL: ~5 parameters each
_IDS_PER_QUERY = 500
# Prebuilt walks (`_walk_statement`) are kept with their compiled SQL: 1, 2, 4 ... 64
# subjects a statement, 127 subqueries per kind in memory rather than 455 up to 200.
_WALKS_PER_STATEMENT = 64
_Part = tuple[
    int, str | None, str, int, datetime | None
]  # subject, location, workflow, limit, since


async def _runs(
    conn: AsyncConnection,
    wanted: Sequence[tuple[Workflow, str | None, Needs]],
    now: datetime,
    cap: int,
) -> dict[int, list[Run]]:
    """Each subject's newest `count` runs, plus every run in its window: one statement per
    200 subjects, a UNION ALL of per-subject index walks that each stop at their LIMIT
    (one round trip instead of 200, the same work for the database)."""
    rows: dict[int, dict[int, Any]] = {i: {} for i in range(len(wanted))}
    newest = [(i, loc, w.name, n.count, None) for i, (w, loc, n) in enumerate(wanted)]
    await _walk(conn, newest, rows)
    # The window's runs are the newest ones: only when all `count` of those fall in the
    # window can it hold more.
    more = []
    for i, (workflow, location, needs) in enumerate(wanted):
        since = now - timedelta(seconds=needs.window_s)
        got = rows[i].values()
        if (
            needs.window_s > 0
            and len(got) == needs.count
            and all(r.started_at >= since for r in got)
        ):
            more.append((i, location, workflow.name, cap, since))
    await _walk(conn, more, rows)
    out: dict[int, list[Run]] = {}
    for i, found in rows.items():
        ordered = sorted(found.values(), key=lambda r: (r.started_at, r.id), reverse=True)
        out[i] = [
            Run(r.id, r.started_at, ExecutionStatus(r.status), r.duration_ms) for r in ordered
        ]
    return out


async def _walk(
    conn: AsyncConnection,
    parts: Sequence[_Part],
    rows: dict[int, dict[int, Any]],
) -> None:
    # Subjects with and without a location, or a `since`, walk different indexes: one
    # statement shape per kind.
    kinds: dict[tuple[bool, bool], list[_Part]] = {}
    for part in parts:
        kinds.setdefault((part[1] is not None, part[4] is not None), []).append(part)
    for (by_location, by_since), same in kinds.items():
        for start in range(0, len(same), _WALKS_PER_STATEMENT):
            chunk = _padded(same[start : start + _WALKS_PER_STATEMENT])
            params: dict[str, Any] = {}
            for n, (index, location, workflow, limit, since) in enumerate(chunk):
                params[f"i{n}"], params[f"w{n}"], params[f"n{n}"] = index, workflow, limit
                if by_location:
                    params[f"l{n}"] = location
                if by_since:
                    params[f"s{n}"] = since
            statement = _walk_statement(len(chunk), by_location, by_since)
            for row in await conn.execute(statement, params):
                rows[row.subject][row.id] = row


@functools.cache
def _walk_statement(size: int, by_location: bool, by_since: bool) -> sa.CompoundSelect[Any]:
    """`size` per-subject index walks in a UNION ALL, every value a named parameter: built
    and compiled once per shape, then only executed (building and compiling 200 subqueries
    each pass cost more than running them)."""
    selects = []
    for n in range(size):
        where = [
            executions.c.workflow == sa.bindparam(f"w{n}", type_=sa.Text()),
            executions.c.status.in_(_RAN),
        ]
        if by_location:
            where.append(executions.c.location == sa.bindparam(f"l{n}", type_=sa.Text()))
        if by_since:
            where.append(executions.c.started_at >= sa.bindparam(f"s{n}", type_=UTCDateTime()))
        one = (
            sa.select(sa.bindparam(f"i{n}", type_=sa.Integer()).label("subject"), *_RUN_COLUMNS)
            .where(*where)
            .order_by(*_NEWEST_FIRST)
            .limit(sa.bindparam(f"n{n}", type_=sa.Integer()))
            .subquery()
        )
        selects.append(sa.select(one))
    return sa.union_all(*selects)


def _padded(parts: Sequence[_Part]) -> Sequence[_Part]:
    """`parts`, its last one repeated up to a power of two: a few statement shapes serve
    every count of subjects. The repeats find the same rows."""
    size = 1
    while size < len(parts):
        size *= 2
    return [*parts, *[parts[-1]] * (size - len(parts))] if parts else parts


async def _step_ms(
    conn: AsyncConnection, ids: Sequence[int], names: Collection[str]
) -> dict[int, dict[str, float]]:
    """Each execution's total time of the named steps."""
    found: dict[int, dict[str, float]] = {}
    for start in range(0, len(ids), _IDS_PER_QUERY):
        query = sa.select(
            step_results.c.execution_id, step_results.c.name, step_results.c.total_ms
        ).where(
            step_results.c.execution_id.in_(ids[start : start + _IDS_PER_QUERY]),
            step_results.c.name.in_(sorted(names)),
        )
        for execution_id, name, total_ms in await conn.execute(query):
            found.setdefault(execution_id, {})[name] = float(total_ms)
    return found


def _steps_of(run: Run, step_ms: Mapping[str, float], wanted: Collection[str]) -> Run:
    return replace(run, step_ms={k: v for k, v in step_ms.items() if k in wanted})


async def _tls_days(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, dict[str, float]]:
    """Each execution's certificate days to expiry, per tls step that recorded them."""
    found: dict[int, dict[str, float]] = {}
    for start in range(0, len(ids), _IDS_PER_QUERY):
        query = sa.select(
            step_results.c.execution_id, step_results.c.name, step_results.c.assertions
        ).where(
            step_results.c.execution_id.in_(ids[start : start + _IDS_PER_QUERY]),
            step_results.c.type == "tls",
        )
        for execution_id, name, checks in await conn.execute(query):
            for check in checks or ():
                actual = check.get("actual") if isinstance(check, dict) else None
                if check.get("check") == TLS_CHECK and isinstance(actual, int | float):
                    found.setdefault(execution_id, {})[name] = float(actual)
    return found


async def _failures(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, FailureFacts]:
    """Each execution's first step that did not succeed: its failed assertion (expected vs
    actual) or its error; the execution's own error when no step failed (a timeout)."""
    out: dict[int, FailureFacts] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        steps = (
            sa.select(
                step_results.c.execution_id,
                step_results.c.name,
                step_results.c.error,
                step_results.c.assertions,
            )
            .where(
                step_results.c.execution_id.in_(chunk),
                step_results.c.status.not_in(_NOT_FAILED),
            )
            .order_by(step_results.c.execution_id, step_results.c.position)
        )
        for row in await conn.execute(steps):
            if row.execution_id not in out:
                out[row.execution_id] = _failure(row)
        rest = [i for i in chunk if i not in out]
        if rest:
            errors = sa.select(executions.c.id, executions.c.error).where(executions.c.id.in_(rest))
            for execution_id, error in await conn.execute(errors):
                out[execution_id] = FailureFacts(execution_id, error=error)
    return out


def _failure(row: Any) -> FailureFacts:
    failed: dict[str, Any] | None = next(
        (a for a in row.assertions or () if isinstance(a, dict) and not a.get("passed")), None
    )
    if failed is None:
        return FailureFacts(row.execution_id, step=row.name, error=row.error)
    return FailureFacts(
        row.execution_id,
        step=row.name,
        expected=f"{failed.get('operator', '==')} {failed.get('expected')!r}",
        actual=failed.get("actual"),
        error=failed.get("message") or failed.get("check"),
    )
