"""`wfmon analyze` on a real SQLite file holding ten days of one journey: the anomalies and
incidents the Analyzer stored, trends, forecasts, the detectors, and the backtest's JSON."""

from __future__ import annotations

import asyncio
import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analytics_support import order_result
from wfmon.analytics.service import Analyzer
from wfmon.cli import app as cli
from wfmon.clock import FakeClock
from wfmon.domain.run import ExecutionResult
from wfmon.events import EventBus
from wfmon.storage import ExecutionRepository, open_database

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
START = NOW - timedelta(days=10)
EVERY = timedelta(minutes=30)


def _result(at: datetime, ms: float, ok: bool = True) -> ExecutionResult:
    return order_result("checkout", at, ms, ok)


def _history() -> list[ExecutionResult]:
    """300 ms rising 3 % a day with a daily peak; the last 3 hours four times slower; a
    burst of 503s on day 8."""
    rng = random.Random(1)
    out = []
    at = START
    while at < NOW:
        day = (at - START) / timedelta(days=1)
        peak = 1.0 + 0.5 * math.exp(-0.5 * ((at.hour - 15) / 3.0) ** 2)
        ms = 300.0 * (1.03**day) * peak * rng.lognormvariate(0.0, 0.05)
        if at >= NOW - timedelta(hours=3):
            ms *= 4.0
        failing = START + timedelta(days=8) <= at < START + timedelta(days=8, hours=2)
        out.append(_result(at, 2.0 if failing else ms, ok=not failing))
        at += EVERY
    return out


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path: Path = tmp_path_factory.mktemp("analyze") / "wfmon.db"
    url = f"sqlite:///{path}"

    async def seed() -> None:
        db = await open_database(url)
        await ExecutionRepository(db).record_many(_history())
        analyzer = Analyzer(db, EventBus(), FakeClock(NOW))
        assert await analyzer.start(subscribe=False) == len(_history())
        await db.dispose()

    asyncio.run(seed())
    return {"WFMON_DATABASE_URL": url, "COLUMNS": "200"}


def invoke(env: dict[str, str], *args: str) -> Any:
    result = CliRunner().invoke(cli, ["analyze", *args], env=env)
    return result


def test_anomalies_lists_the_slowdown_with_its_reason(env: dict[str, str]) -> None:
    out = invoke(env, "anomalies", "--json", "--since", "1d")
    assert out.exit_code == 0, out.output
    found = json.loads(out.output)
    slow = [a for a in found if a["series"] == "duration" and a["workflow"] == "checkout"]
    assert slow, found
    assert "vs expected" in slow[0]["reason"]
    assert datetime.fromisoformat(slow[0]["started_at"]) >= NOW - timedelta(hours=3)


def test_incidents_names_the_endpoint_and_status(env: dict[str, str]) -> None:
    out = invoke(env, "incidents", "--json", "--since", "14d")
    assert out.exit_code == 0, out.output
    incidents = json.loads(out.output)["incidents"]
    assert len(incidents) == 1
    assert incidents[0]["failures"] == 4
    assert incidents[0]["description"].startswith("POST /api/orders returns 503 in checkout")


def test_trends_finds_the_daily_rise(env: dict[str, str]) -> None:
    out = invoke(env, "trends", "--json", "--since", "14d")
    assert out.exit_code == 0, out.output
    rows = {(r["workflow"], r["step"], r["series"]): r for r in json.loads(out.output)}
    whole = rows[("checkout", None, "duration")]
    assert whole["p_value"] < 0.05
    assert whole["slope_per_day"] > 0
    assert "first_try" not in {series for _w, _s, series in rows}  # a rate, not a latency


def test_forecast_gives_a_day_of_buckets_with_intervals(env: dict[str, str]) -> None:
    out = invoke(env, "forecast", "--json", "--since", "14d")
    assert out.exit_code == 0, out.output
    [item] = json.loads(out.output)
    assert item["workflow"] == "checkout"
    assert item["method"] in ("seasonal", "naive")
    assert len(item["mean"]) == 24
    assert all(
        lo <= m <= hi for lo, m, hi in zip(item["low"], item["mean"], item["high"], strict=True)
    )


def test_detectors_prints_the_shipped_threshold() -> None:
    out = CliRunner().invoke(cli, ["analyze", "detectors"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "default (shipped)" in out.output
    assert "0.5" in out.output


def test_backtest_reports_every_figure_as_json() -> None:
    out = CliRunner().invoke(
        cli,
        ["analyze", "backtest", "--seed", "7", "--days", "9", "--no-forecast", "--json"],
        env={"COLUMNS": "200"},
    )
    assert out.exit_code in (0, 1), out.output
    names = [t["name"] for t in json.loads(out.output)]
    assert names[0].startswith("fault windows detected")
    assert any(n.startswith("false-alarm episodes") for n in names)
    assert any(n.startswith("failure prediction") for n in names)


def test_predict_says_whether_the_next_runs_are_at_risk(env: dict[str, str]) -> None:
    out = invoke(env, "predict", "--json", "--since", "14d")
    assert out.exit_code == 0, out.output
    [item] = json.loads(out.output)
    assert item["workflow"] == "checkout"
    assert item["at_risk"] is False  # the last run passed (slowly: that is the detector's)
    assert item["reason"] == "the last run passed within its limits"
    table = invoke(env, "predict", "--since", "14d")
    assert "checkout" in table.output
    assert "calm" in table.output
