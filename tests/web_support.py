"""Data for the dashboard's tests: a day of runs, a failed multi-step run, alerts in each
state, and a run finished the way the daemon finishes one (so its event reaches the
live feed through the journal and the event log)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from api_support import XSS, Harness, now_utc
from wfmon.domain.run import (
    AssertionResult,
    ExecutionResult,
    ExecutionStatus,
    StepResult,
    StepStatus,
    Timings,
)
from wfmon.events import Event
from wfmon.storage import Database
from wfmon.storage.tables_alerts import alert_events, alerts

WORKFLOWS = ("checkout", XSS, "private")


def step(
    name: str,
    at: datetime,
    total_ms: float,
    *,
    ok: bool = True,
    dns_ms: float | None = 4.0,
    connect_ms: float | None = 9.0,
) -> StepResult:
    ttfb = max(1.0, total_ms * 0.6 - (dns_ms or 0) - (connect_ms or 0))
    expected = AssertionResult("status", "==", 200, 200 if ok else 503, ok)
    return StepResult(
        name=name,
        type="http",
        status=StepStatus.SUCCEEDED if ok else StepStatus.FAILED,
        started_at=at,
        timings=Timings(dns_ms=dns_ms, connect_ms=connect_ms, ttfb_ms=ttfb, total_ms=total_ms),
        assertions=(expected, AssertionResult("latency", "<=", 2000, round(total_ms), True)),
        request={"method": "GET", "url": f"https://shop.test/{name}"},
        response_status=200 if ok else 503,
        response_headers={"Content-Type": "application/json"},
        body_excerpt='{"ok": true}' if ok else '{"error": "upstream <b>timeout</b>"}',
    )


def run(
    workflow: str,
    at: datetime,
    *,
    ok: bool = True,
    durations: tuple[float, ...] = (120.0, 80.0, 200.0),
    names: tuple[str, ...] = ("home", "login", "cart"),
    trigger: str = "schedule",
) -> ExecutionResult:
    """A finished run; when not `ok`, its last step failed its status assertion."""
    steps = []
    offset = 0.0
    for i, (name, ms) in enumerate(zip(names, durations, strict=True)):
        last = i == len(names) - 1
        steps.append(
            step(
                name,
                at + timedelta(milliseconds=offset),
                ms,
                ok=ok or not last,
                dns_ms=4.0 if i == 0 else None,  # later steps reuse the connection
                connect_ms=9.0 if i == 0 else None,
            )
        )
        offset += ms
    return ExecutionResult(
        workflow=workflow,
        location="local",
        slot_at=at,
        started_at=at,
        finished_at=at + timedelta(milliseconds=offset),
        status=ExecutionStatus.SUCCEEDED if ok else ExecutionStatus.FAILED,
        steps=tuple(steps),
        trigger=trigger,
        elapsed_ms=offset,
    )


async def add_alert(
    db: Database,
    state: str,
    summary: str,
    *,
    workflow: str = "checkout",
    severity: str = "critical",
    rule: str = "failed_in_a_row",
    opened: timedelta = timedelta(minutes=20),
) -> int:
    at = now_utc() - opened
    key = f"{rule}:{workflow}:{state}:{summary}"
    async with db.write() as conn:
        alert_id = (
            await conn.execute(
                sa.insert(alerts).returning(alerts.c.id),
                {
                    "dedup_key": key,
                    "episode": 1,
                    "rule": rule,
                    "kind": "failure",
                    "severity": severity,
                    "state": state,
                    "summary": summary,
                    "workflow": workflow,
                    "location": None,
                    "group_key": workflow,
                    "tags": [],
                    "opened_at": at,
                    "changed_at": at,
                    "acknowledged_by": "user:bob" if state != "firing" else None,
                    "resolved_by": "system" if state == "resolved" else None,
                    "details": {"streak": 3},
                    "version": 1,
                },
            )
        ).scalar_one()
        await conn.execute(
            sa.insert(alert_events),
            {
                "alert_id": alert_id,
                "at": at,
                "actor": "system",
                "kind": "fired",
                "from_state": None,
                "to_state": "firing",
                "reason": rule,
                "message": summary,
                "execution_ids": [],
                "note": None,
                "data": {},
            },
        )
    return int(alert_id)


@dataclass(frozen=True)
class Seeded:
    failed_run: int  # a checkout run whose `cart` step failed its status assertion
    xss_run: int
    firing: int
    acknowledged: int
    resolved: int


async def seed(h: Harness, hours: int = 24, every_min: int = 30) -> Seeded:
    """A day of runs of every workflow (rollups included), and alerts in each state."""
    rng = random.Random(7)
    now = now_utc().replace(microsecond=0)
    results = []
    for minutes in range(hours * 60, 0, -every_min):
        at = now - timedelta(minutes=minutes)
        for name in WORKFLOWS:
            base = {"checkout": 300.0, XSS: 90.0, "private": 160.0}[name]
            spread = tuple(base * rng.uniform(0.6, 1.5) / k for k in (2, 3, 1.5))
            results.append(run(name, at, ok=rng.random() > 0.06, durations=spread))
    await h.record(results)
    [failed] = await h.record([run("checkout", now - timedelta(minutes=3), ok=False)])
    [xss] = await h.record([run(XSS, now - timedelta(minutes=2), durations=(40.0, 30.0, 50.0))])
    assert failed is not None
    assert xss is not None
    return Seeded(
        failed_run=failed,
        xss_run=xss,
        firing=await add_alert(h.db, "firing", "checkout failed 3 times in a row"),
        acknowledged=await add_alert(
            h.db,
            "acknowledged",
            "private is slow: p95 over 2 s",
            workflow="private",
            severity="degraded",
            rule="latency",
        ),
        resolved=await add_alert(
            h.db, "resolved", f"{XSS} failed twice", workflow=XSS, opened=timedelta(hours=5)
        ),
    )


async def finish_like_the_daemon(h: Harness, result: ExecutionResult) -> int:
    """Claim a slot, record the result and publish `execution.finished` on the bus, as the
    scheduler does; the journal writes it to the event log and the feed sends it on."""
    execution_id = await h.app.executions.claim_slot(
        result.workflow, result.location, result.slot_at, started_at=result.started_at
    )
    assert execution_id is not None
    assert await h.app.executions.finish(execution_id, result)
    await h.bus.publish(
        Event(
            "execution.finished",
            {
                "id": execution_id,
                "workflow": result.workflow,
                "location": result.location,
                "status": result.status.value,
                "duration_ms": round(result.duration_ms, 1),
                "slot_at": result.slot_at.isoformat(),
            },
            payload=result,
        )
    )
    return execution_id
