"""`wfmon status` and `wfmon report` on real SQLite and PostgreSQL, and through the CLI."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from wfmon.app import build_app
from wfmon.cli import app as cli
from wfmon.clock import FakeClock, SystemClock
from wfmon.domain.run import ExecutionResult, ExecutionStatus
from wfmon.domain.workflow import Schedule, Workflow
from wfmon.reports.build import build_report
from wfmon.reports.service import report_service, write_report
from wfmon.scheduler.cron import slots_between
from wfmon.settings import Settings
from wfmon.status import Level, assess, gather
from wfmon.storage import (
    Database,
    ExecutionRepository,
    HealthCheckRepository,
    WorkflowRepository,
    open_database,
)
from wfmon.storage.stats import StatsRepository

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
S, F, E, M = (
    ExecutionStatus.SUCCEEDED,
    ExecutionStatus.FAILED,
    ExecutionStatus.ERROR,
    ExecutionStatus.MISSED,
)


def at(minutes: float, base: datetime = T0) -> datetime:
    return base + timedelta(minutes=minutes)


def run(
    workflow: str,
    slot: datetime,
    status: ExecutionStatus = S,
    *,
    lag_s: float = 0.0,
    duration_ms: float = 100.0,
    error: str | None = None,
    trigger: str = "schedule",
    location: str = "local",
) -> ExecutionResult:
    started = slot + timedelta(seconds=lag_s)
    return ExecutionResult(
        workflow=workflow,
        location=location,
        slot_at=slot,
        started_at=started,
        finished_at=started + timedelta(milliseconds=duration_ms),
        status=status,
        error=error,
        trigger=trigger,
    )


def configured(name: str, schedule: Any, **fields: Any) -> Workflow:
    """A workflow as the loader would give it: the definition holds the YAML as written."""
    sched = Schedule(cron=schedule) if isinstance(schedule, str) else Schedule(**schedule)
    written = schedule if isinstance(schedule, str) else {"every": f"{schedule['every_s']:g}s"}
    return Workflow(
        name=name,
        steps=(),
        schedule=sched,
        definition={"name": name, "schedule": written},
        **fields,
    )


async def heartbeats(repo: HealthCheckRepository, times: Iterable[datetime], **data: Any) -> None:
    for when in times:
        await repo.add(
            when, "heartbeat", True, None, "up", {"instance": "host-1", "pid": 7, **data}
        )


# -- storage aggregates -------------------------------------------------------------------


async def test_percentiles_are_nearest_rank_per_workflow(db: Database) -> None:
    runs = [run("a", at(i), duration_ms=float(i)) for i in range(1, 101)]
    runs.append(run("b", at(0), duration_ms=5.0))
    await ExecutionRepository(db).record_many(runs)

    found = await StatsRepository(db).duration_percentiles(T0, at(200), (50, 95, 99))

    assert found["a"].count == 100
    assert found["a"].values == pytest.approx({50: 50.0, 95: 95.0, 99: 99.0})
    assert found["b"].values == {50: 5.0, 95: 5.0, 99: 5.0}


async def test_lag_is_start_minus_slot_of_schedule_triggered_runs(db: Database) -> None:
    repo = ExecutionRepository(db)
    await repo.record_many(
        [run("a", at(i), lag_s=0.1 * i) for i in range(1, 11)]  # 0.1 .. 1.0 s
        + [
            run("a", at(20), lag_s=600, trigger="catch-up"),  # late by design: not lag
            run("a", at(21), lag_s=900, trigger="manual"),
            run("b", at(1), lag_s=2.5),
        ]
    )
    await repo.record_missed("a", "local", [at(30)], now=at(60))

    stats = StatsRepository(db)
    per_workflow = await stats.lag_percentiles(T0, at(100))
    overall = await stats.lag_percentiles(T0, at(100), per_workflow=False)

    assert per_workflow["a"].count == 10
    assert per_workflow["a"].get(50) == pytest.approx(0.5, abs=0.002)
    assert per_workflow["a"].get(99) == pytest.approx(1.0, abs=0.002)
    assert per_workflow["b"].get(50) == pytest.approx(2.5, abs=0.002)
    assert overall[""].count == 11
    assert overall[""].get(99) == pytest.approx(2.5, abs=0.002)


async def test_counts_slots_errors_and_recent_runs(db: Database) -> None:
    repo = ExecutionRepository(db)
    await repo.record_many(
        [
            run("a", at(0)),  # at the window's open start: left out of slot counts
            run("a", at(5), F, error="order 4711 not found"),
            run("a", at(10), F, error="order 4712 not found"),
            run("a", at(15), E, error="connection refused"),
            run("a", at(20)),
            run("a", at(22), F, trigger="manual", error="order 1 not found"),
        ]
    )
    await repo.record_missed("a", "local", [at(25), at(30)], now=at(31))
    stats = StatsRepository(db)

    counts = await stats.status_counts(T0, at(30))
    slots = await stats.slot_counts(T0, at(30))
    errors = await stats.error_counts(T0, at(60))
    recent = await stats.recent_runs(["a", "nothing"], T0, per_workflow=3)

    assert counts["a"].by_status == {S: 2, F: 3, E: 1, M: 1}  # the 30th minute is excluded
    assert (slots["a"].ran, slots["a"].missed) == (4, 2)  # 5, 10, 15, 20; 25, 30
    assert sorted((e.status, e.error, e.count) for e in errors) == sorted(
        [
            (F, "order 4711 not found", 1),
            (F, "order 4712 not found", 1),
            (F, "order 1 not found", 1),
            (E, "connection refused", 1),
            (M, "missed: no scheduler was running at this slot", 2),
        ]
    )
    assert next(e for e in errors if e.status is M).last_at == at(30)
    # Newest first, and only runs that ran (not the missed ones).
    assert [(r.slot_at, r.status) for r in recent["a"]] == [(at(22), F), (at(20), S), (at(15), E)]
    assert "nothing" not in recent


async def test_health_check_rounds_and_counts(db: Database) -> None:
    repo = HealthCheckRepository(db)
    for minute in (-7, 0, 5, 10):
        await repo.add(at(minute), "heartbeat", True)
        await repo.add(at(minute), "disk", minute != 5, detail="low")
    await repo.add(at(12), "target", True)
    stats = StatsRepository(db)

    assert await stats.check_times(T0, at(10), "heartbeat") == [at(0), at(5), at(10)]
    assert await stats.check_times(T0, at(60)) == [at(0), at(5), at(10), at(12)]
    assert await stats.last_check_before(T0, "heartbeat") == at(-7)
    assert await stats.last_check_before(at(-7)) is None
    counts = await stats.check_counts(T0)
    assert {n: (c.total, c.failed) for n, c in counts.items()} == {
        "heartbeat": (3, 0),
        "disk": (3, 1),
        "target": (1, 0),
    }


# -- status facts ---------------------------------------------------------------------------


async def test_gather_reads_every_fact_status_needs(db: Database) -> None:
    now = at(60)
    await WorkflowRepository(db).sync(
        [configured("checkout", "*/5 * * * *"), configured("search", {"every_s": 600})], at(-600)
    )
    repo = ExecutionRepository(db)
    await repo.record_many(
        [run("checkout", at(m), F if m >= 45 else S, error="cart: 500") for m in range(5, 60, 5)]
        + [run("search", at(40))]
    )
    await repo.record_missed("search", "local", [at(50)], now=now)
    health = HealthCheckRepository(db)
    await heartbeats(health, [at(50), at(55)], version="0.1.0", interval_s=300)
    await health.add(at(55), "disk", False, None, "200 MB free", {"free_mb": 200.0})

    facts = await gather(db, now)

    assert facts.database.dialect == db.dialect
    assert facts.database.revision == facts.database.head_revision
    assert facts.database.ping_ms is not None
    assert facts.heartbeat is not None
    assert (facts.heartbeat.instance, facts.heartbeat.interval_s) == ("host-1", 300.0)
    assert [c.name for c in facts.checks] == ["disk", "heartbeat"]
    assert facts.check("heartbeat") is not None
    assert [w.name for w in facts.workflows] == ["checkout", "search"]
    checkout, search = facts.workflows
    assert checkout.last_hour.total == 11
    assert checkout.last_hour.failures == 3
    assert [r.status for r in checkout.recent[:4]] == [F, F, F, S]
    assert checkout.duration.get(50) == pytest.approx(100.0)
    assert checkout.plan is not None
    assert checkout.plan.words == "every 5 minutes"
    assert checkout.last_slots == {"local": at(55)}
    assert search.last is not None
    assert search.last.status is M
    assert [r.status for r in search.recent] == [S]
    assert search.plan is not None
    assert search.plan.schedule == Schedule(every_s=600)

    verdict = assess(facts, now)
    assert verdict.level is Level.DEGRADED
    assert {r.code for r in verdict.reasons} == {"workflow_failing", "runs_missed", "check_failing"}


async def test_gather_on_a_database_without_tables_says_so(empty_database_url: str) -> None:
    db = await open_database(empty_database_url, upgrade=False)
    try:
        facts = await gather(db, T0)
    finally:
        await db.dispose()

    assert facts.database.reachable
    assert facts.database.revision is None
    assert assess(facts, T0).level is Level.UNKNOWN


# -- reports --------------------------------------------------------------------------------


async def test_a_report_of_a_day(db: Database) -> None:
    start, end = T0, at(24 * 60)
    await WorkflowRepository(db).sync([configured("checkout", {"every_s": 3600})], at(-60))
    slots = slots_between(Schedule(every_s=3600), start - timedelta(minutes=2), end)
    runs = [
        run("checkout", slot, F if i % 6 == 0 else S, error=f"order {i} not found", lag_s=0.2)
        for i, slot in enumerate(slots[:-3])
    ]
    await ExecutionRepository(db).record_many(runs)
    await ExecutionRepository(db).record_missed("checkout", "local", slots[-3:-1], now=end)
    health = HealthCheckRepository(db)
    # A heartbeat every 5 minutes, but none from 06:00 to 07:00.
    beats = [at(m) for m in range(0, 24 * 60, 5) if not 6 * 60 < m < 7 * 60]
    await heartbeats(health, beats)

    report = await build_report(db, start, end)

    (checkout,) = report.workflows
    assert checkout.expected == 24  # slots 13:00 .. 11:00 the next day; 12:00 is not settled
    assert (checkout.ran, checkout.missed) == (22, 2)
    assert checkout.counts.total == 24
    assert checkout.uptime == pytest.approx(18 / 24)
    assert checkout.lag.get(50) == pytest.approx(0.2, abs=0.002)
    assert [(g.reason, g.count) for g in checkout.failures] == [
        ("order <n> not found", 4),
        ("missed: no scheduler was running at this slot", 2),
    ]
    assert report.daemon.beats == len(beats)
    assert [(g.start, g.end) for g in report.daemon.gaps] == [(at(6 * 60), at(7 * 60))]
    assert report.daemon.ratio == pytest.approx(23 / 24)


class StoppingClock(FakeClock):
    """A fake clock that sets `stop` once a sleep takes it past `until`: the service runs
    its loop for a few simulated hours in no real time, then stops."""

    def __init__(self, start: datetime, until: datetime, stop: asyncio.Event) -> None:
        super().__init__(start)
        self._until = until
        self._stop = stop

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        if self.now() > self._until:
            self._stop.set()
        await asyncio.sleep(0)


async def test_the_service_writes_reports_on_the_hour(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    stop = asyncio.Event()
    clock = StoppingClock(at(10), until=at(150), stop=stop)
    settings = Settings(tmp_path / "wfmon.yaml", tmp_path / "reports", database_url)
    await HealthCheckRepository(db).add(at(30), "heartbeat", True)
    async with build_app(settings, clock=clock) as app:
        await report_service(app, 3600, stop)

    names = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert names == [
        "report-20260301T1300.json",
        "report-20260301T1300.md",
        "report-20260301T1400.json",
        "report-20260301T1400.md",
    ]
    first = json.loads((tmp_path / "reports" / "report-20260301T1300.json").read_text())
    assert first["period"]["start"] == "2026-03-01T12:00:00+00:00"
    assert first["daemon"]["rounds"] == 1
    assert (
        "# wfmon report 2026-03-01 13:00 to 2026-03-01 14:00 UTC"
        in (tmp_path / "reports" / "report-20260301T1400.md").read_text()
    )


async def test_a_report_that_cannot_be_written_does_not_stop_the_service(
    db: Database, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stop = asyncio.Event()
    blocked = tmp_path / "reports"
    blocked.write_text("a file where the data directory should be")
    settings = Settings(tmp_path / "wfmon.yaml", blocked, database_url)
    async with build_app(settings, clock=StoppingClock(at(10), at(150), stop)) as app:
        with caplog.at_level(logging.ERROR):
            await report_service(app, 3600, stop)

    failures = [r for r in caplog.records if getattr(r, "event", None) == "report.failed"]
    assert len(failures) == 2  # 13:00 and 14:00: both tried


async def test_write_report_names_files_by_the_period_end(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(tmp_path / "wfmon.yaml", tmp_path / "reports", database_url)
    async with build_app(settings, clock=FakeClock(at(61))) as app:
        paths = await write_report(app, at(60), 3600, directory=tmp_path / "out")

    assert [p.name for p in paths] == ["report-20260301T1300.md", "report-20260301T1300.json"]
    assert json.loads(paths[1].read_text())["generated_at"] == "2026-03-01T13:01:00+00:00"
    assert not list((tmp_path / "out").glob(".*.tmp"))


async def test_writing_a_report_deletes_those_past_their_keep(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    """Pass: after writing the 13:00 report, a report that ended 31 days earlier is gone,
    one from 29 days earlier and files that are not reports are left alone."""
    out = tmp_path / "out"
    out.mkdir()
    keep = ["report-20260130T1300.md", "notes.md", "report-latest.json"]  # 29 days; others
    for name in ["report-20260128T1200.md", "report-20260128T1200.json", *keep]:
        (out / name).write_text("x")
    settings = Settings(tmp_path / "wfmon.yaml", tmp_path / "reports", database_url)
    async with build_app(settings, clock=FakeClock(at(61))) as app:
        await write_report(app, at(60), 3600, directory=out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*keep, "report-20260301T1300.md", "report-20260301T1300.json"]
    )


# -- the CLI (SQLite file) ------------------------------------------------------------------


async def _seed_recent(
    url: str, now: datetime, *, disk_ok: bool = True, beats: bool = True
) -> None:
    """An hour of a healthy daemon ending at `now`: a workflow every 5 minutes, every slot
    run, a heartbeat every 5 minutes."""
    db = await open_database(url)
    try:
        await WorkflowRepository(db).sync(
            [configured("checkout", {"every_s": 300}), configured("<script>", {"every_s": 300})],
            now - timedelta(days=2),
        )
        slots = slots_between(Schedule(every_s=300), now - timedelta(minutes=70), now)
        await ExecutionRepository(db).record_many(
            [run(name, slot, lag_s=0.05) for slot in slots for name in ("checkout", "<script>")]
        )
        health = HealthCheckRepository(db)
        if beats:
            times = [now - timedelta(minutes=m) for m in range(66, 0, -5)]
            await heartbeats(health, times)
            for when in times:
                await health.add(when, "disk", disk_ok, None, "disk", {"free_mb": 200.0})
    finally:
        await db.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'wfmon.db'}"


def invoke(url: str, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"WFMON_DATABASE_URL": url, "COLUMNS": "200"})


STATUS = [
    # (id, seeding, exit code, level)
    ("never ran", None, 3, "UNKNOWN"),
    ("healthy", {}, 0, "HEALTHY"),
    ("disk low", {"disk_ok": False}, 1, "DEGRADED"),
    ("no heartbeats", {"beats": False}, 3, "UNKNOWN"),
]


@pytest.mark.parametrize(("case", "seed", "code", "level"), STATUS, ids=[c[0] for c in STATUS])
def test_status_exit_code_reflects_the_assessment(
    case: str, seed: dict[str, Any] | None, code: int, level: str, sqlite_url: str, tmp_path: Path
) -> None:
    if seed is not None:
        asyncio.run(_seed_recent(sqlite_url, SystemClock().now(), **seed))

    shown = invoke(sqlite_url, "status")
    as_json = invoke(sqlite_url, "status", "--json")

    assert shown.exit_code == code, shown.output
    assert f"{level} (exit code {code})" in shown.output
    assert as_json.exit_code == code
    assert json.loads(as_json.output)["assessment"]["level"] == level
    if seed is None:  # status only reads: it did not create the database file
        assert not (tmp_path / "wfmon.db").exists()


def test_status_takes_schedules_from_a_config_when_given(sqlite_url: str, tmp_path: Path) -> None:
    asyncio.run(_seed_recent(sqlite_url, SystemClock().now()))
    config = tmp_path / "wfmon.yaml"
    config.write_text(
        "workflows:\n"
        "  - name: checkout\n"
        "    schedule: '*/15 * * * *'\n"
        "    steps: [{name: home, type: http, url: 'http://127.0.0.1:9/'}]\n",
        encoding="utf-8",
    )

    result = invoke(sqlite_url, "status", "--json", "-c", str(config))

    workflows = {w["name"]: w for w in json.loads(result.output)["workflows"]}
    assert workflows["checkout"]["schedule"]["words"] == "every 15 minutes"
    assert workflows["<script>"]["schedule"] is None  # not in this config


def test_report_in_every_format(sqlite_url: str, tmp_path: Path) -> None:
    asyncio.run(_seed_recent(sqlite_url, SystemClock().now()))

    md = invoke(sqlite_url, "report", "--since", "1h")
    data = invoke(sqlite_url, "report", "--since", "1h", "--format", "json")
    page = tmp_path / "report.html"
    html = invoke(sqlite_url, "report", "--since", "1h", "-f", "html", "-o", str(page))

    assert md.exit_code == 0, md.output
    assert "| checkout | every 5 minutes | " in md.output
    assert "&lt;script&gt;" in md.output
    assert data.exit_code == 0
    assert {w["name"] for w in json.loads(data.output)["workflows"]} == {"checkout", "<script>"}
    assert html.exit_code == 0
    text = page.read_text()
    assert "<td>&lt;script&gt;</td>" in text
    assert "<script" not in text


def test_report_validate_passes_a_healthy_hour(sqlite_url: str) -> None:
    asyncio.run(_seed_recent(sqlite_url, SystemClock().now()))

    result = invoke(sqlite_url, "report", "--since", "1h", "--validate")

    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.output.splitlines()] == ["PASS"] * 4


def test_report_validate_fails_without_a_daemon(sqlite_url: str) -> None:
    asyncio.run(_seed_recent(sqlite_url, SystemClock().now(), beats=False))

    result = invoke(sqlite_url, "report", "--since", "1h", "--validate", "--format", "json")

    assert result.exit_code == 1
    verdicts = {t["code"]: t["passed"] for t in json.loads(result.output)}
    assert verdicts == {
        "daemon_uptime": False,
        "executions_as_scheduled": True,
        "health_check_interval": False,
        "error_rate": True,
    }


REPORT_ERRORS = [
    (("report", "--since", "soon"), 2),
    (("report", "--format", "pdf"), 2),
    (("report",), 2),  # no database there
]


@pytest.mark.parametrize(("args", "code"), REPORT_ERRORS)
def test_report_refuses_bad_arguments_and_missing_databases(
    args: tuple[str, ...], code: int, sqlite_url: str
) -> None:
    result = invoke(sqlite_url, *args)

    assert result.exit_code == code


def test_status_of_an_unusable_database_url_is_down_and_hides_the_password() -> None:
    result = invoke("mysql://wfmon:s3cret-pass@db.example/wfmon", "status", "--json")

    assert result.exit_code == 2
    data = json.loads(result.output)
    assert data["assessment"]["level"] == "DOWN"
    assert data["database"]["url"] == "mysql://wfmon:***@db.example/wfmon"
    assert "s3cret-pass" not in result.output
