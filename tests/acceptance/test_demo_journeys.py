"""The bundled journeys against the real demo shop, through the CLI a newcomer uses."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wfmon.cli import app
from wfmon.clock import SystemClock
from wfmon.config.loader import load
from wfmon.demo.server import ShopHandle, running_shop
from wfmon.demo.showcase import demo_config
from wfmon.domain.run import ExecutionStatus
from wfmon.httpclient import HttpClientFactory
from wfmon.runner.engine import Engine

EXAMPLE = Path(__file__).parents[2] / "examples/farmers-market/wfmon.yaml"


@pytest.fixture
async def shop() -> AsyncIterator[ShopHandle]:
    async with running_shop(port=0, latency_scale=0.0) as handle:
        yield handle


@pytest.fixture
def config(shop: ShopHandle, tmp_path: Path) -> Path:
    path = tmp_path / "wfmon.yaml"
    path.write_text(demo_config(shop.port))
    return path


def test_the_example_is_the_packaged_demo_config() -> None:
    assert demo_config(8900) == EXAMPLE.read_text()
    result = load(EXAMPLE)
    assert result.ok, result.problems
    schedules = {w.name: w.schedule.cron for w in result.workflows}
    assert schedules == {
        "user-login": "*/15 * * * *",
        "registration": "*/30 * * * *",
        "farm-creation": "0 */1 * * *",
        "product-listing": "0 */2 * * *",
        "order-placement": "0 */4 * * *",
        "health-check": "*/5 * * * *",
    }


async def test_all_six_journeys_pass_and_a_fault_breaks_only_its_journeys(
    shop: ShopHandle, config: Path
) -> None:
    clock = SystemClock()
    engine = Engine(http=HttpClientFactory(clock=clock), clock=clock)
    workflows = load(config).workflows
    results = {w.name: await engine.run(w) for w in workflows}
    assert {n: r.status for n, r in results.items()} == {
        n: ExecutionStatus.SUCCEEDED for n in results
    }, {n: r.reason for n, r in results.items()}
    assert all(len(r.steps) >= 2 for r in results.values())  # real multi-step journeys
    shop.set_faults({"bad_deploy_at": "2000-01-01T00:00:00+00:00"})
    results = {w.name: await engine.run(w) for w in workflows}
    broken = {n for n, r in results.items() if r.status is not ExecutionStatus.SUCCEEDED}
    assert broken == {"order-placement"}
    assert (results["order-placement"].reason or "").startswith("place_order: status:")


@pytest.fixture
def shop_process(tmp_path: Path, unused_tcp_port: int) -> Iterator[int]:
    """`wfmon demo-target` as its own process: the CLI under test runs its own event loop."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wfmon",
            "demo-target",
            "--port",
            str(unused_tcp_port),
            "--latency-scale",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # wait for the port to answer, not a fixed time
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{unused_tcp_port}/health", timeout=1
                ):
                    break
            except OSError:
                time.sleep(0.05)
        yield unused_tcp_port
    finally:
        process.terminate()
        process.wait(timeout=10)


def set_faults(port: int, plan: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/admin/faults",
        data=json.dumps(plan).encode(),
        method="PUT",
        headers={"X-Admin-Token": "demo-admin", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def test_check_succeeds_then_fails_with_the_step_and_assertion(
    shop_process: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "wfmon.yaml"
    config.write_text(demo_config(shop_process))
    monkeypatch.setenv("WFMON_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    ok = runner.invoke(app, ["check", "user-login", "-c", str(config)])
    assert ok.exit_code == 0, ok.output
    assert "user-login: succeeded" in ok.output
    set_faults(shop_process, {"down": ["login"]})
    failed = runner.invoke(app, ["check", "user-login", "-c", str(config)])
    assert failed.exit_code == 1
    assert "✗ login: status: expected 200, got 503" in failed.output
    listed = runner.invoke(app, ["executions", "--json", "-c", str(config)])
    rows = json.loads(listed.output)
    assert [r["status"] for r in rows] == ["failed", "succeeded"]


def test_validate_gives_one_line_per_mistake_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "wfmon.yaml"
    path.write_text(
        """\
vars: {base_url: "http://127.0.0.1:8900"}
workflows:
  - name: typo
    schedule: "*/5 * * * *"
    steps: [{name: a, type: http, urll: "{{ vars.base_url }}/x"}]
  - name: bad-cron
    schedule: "*/5 * * *"
    steps: [{name: a, type: http, url: "{{ vars.base_url }}/x"}]
  - name: undefined
    schedule: "*/5 * * * *"
    steps: [{name: a, type: http, url: "{{ vars.base }}/x"}]
"""
    )
    result = CliRunner().invoke(app, ["validate", "-c", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith(str(path))]
    assert len(lines) == 3
    assert "workflows[0].steps[0].urll: unknown key 'urll'" in lines[0]
    assert "workflows[1].schedule" in lines[1]
    assert "workflows[2].steps[0].url: undefined variable vars.base" in lines[2]


async def test_the_demo_runs_every_journey(tmp_path: Path) -> None:
    from rich.console import Console

    from wfmon.demo.showcase import run_demo

    out = Console(record=True, width=200)
    # 3,600x: the 4-hourly journey runs every 4 s, the others every second.
    code = await run_demo(
        data_dir=tmp_path / "demo", port=0, speed=3600, console=out, duration_s=4.0, api_port=0
    )
    assert code == 0
    text = out.export_text()
    for name in (
        "user-login",
        "registration",
        "farm-creation",
        "product-listing",
        "order-placement",
        "health-check",
    ):
        assert f"✓ {name}" in text
    assert "✗" not in text
