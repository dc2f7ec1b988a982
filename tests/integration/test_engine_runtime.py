"""Deadlines, retries, secrets and the non-HTTP step types, against real loopback servers."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from support import Lab, WorkflowsFromText
from wfmon.clock import SystemClock
from wfmon.domain.run import ExecutionStatus, StepStatus
from wfmon.httpclient import HttpClientFactory
from wfmon.runner.engine import Engine


async def test_a_hung_step_times_out_and_cleanup_still_runs(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    [wf] = workflows_from(f"""
workflows:
  - name: hung
    schedule: {{every: 1m}}
    steps:
      - {{name: hang, type: http, url: "{lab.base_url}/hang", timeout: 200ms}}
      - {{name: next, type: http, url: "{lab.base_url}/json"}}
      - {{name: cleanup, type: http, url: "{lab.base_url}/echo", always_run: true}}
""")
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.TIMEOUT
    hang, nxt, cleanup = result.steps
    assert hang.status is StepStatus.TIMEOUT
    assert hang.error == "step timed out after 0.2s"
    assert nxt.status is StepStatus.SKIPPED
    assert cleanup.status is StepStatus.SUCCEEDED


async def test_the_workflow_deadline_interrupts_the_running_step(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    [wf] = workflows_from(f"""
workflows:
  - name: slow
    schedule: {{every: 1m}}
    timeout: 300ms
    steps:
      - {{name: ok, type: http, url: "{lab.base_url}/json"}}
      - {{name: hang, type: http, url: "{lab.base_url}/hang", timeout: 30s}}
      - {{name: never, type: http, url: "{lab.base_url}/json"}}
      - {{name: cleanup, type: http, url: "{lab.base_url}/echo", always_run: true}}
""")
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.TIMEOUT
    assert result.error == "workflow timed out after 0.3s"
    assert [s.status for s in result.steps] == [
        StepStatus.SUCCEEDED,
        StepStatus.TIMEOUT,
        StepStatus.SKIPPED,
        StepStatus.SUCCEEDED,
    ]


class InstantSleepClock(SystemClock):
    """Real time for measurements; backoff sleeps are recorded, not waited."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def test_retries_with_growing_backoff_until_success(
    lab: Lab, workflows_from: WorkflowsFromText
) -> None:
    clock = InstantSleepClock()
    engine = Engine(http=HttpClientFactory(clock=clock), clock=clock)
    [wf] = workflows_from(f"""
workflows:
  - name: flaky
    schedule: {{every: 1m}}
    retries: {{attempts: 3, backoff: 1s, max_backoff: 10s}}
    steps: [{{name: s, type: http, url: "{lab.base_url}/flaky"}}]
""")
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.SUCCEEDED
    assert result.attempts == 3
    assert lab.hits["flaky"] == 3
    assert len(clock.slept) == 2
    assert clock.slept[0] >= 1.0  # exponential with jitter: never below the base


async def test_retries_give_up_with_the_last_result(
    lab: Lab, workflows_from: WorkflowsFromText
) -> None:
    clock = InstantSleepClock()
    engine = Engine(http=HttpClientFactory(clock=clock), clock=clock)
    [wf] = workflows_from(f"""
workflows:
  - name: down
    schedule: {{every: 1m}}
    retries: 2
    steps: [{{name: s, type: http, url: "{lab.base_url}/status/500"}}]
""")
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.FAILED
    assert result.attempts == 3
    assert lab.hits["status"] == 3


async def test_secrets_are_masked_in_everything_stored(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    # The lab echoes the request back: the password and the bearer token come back in the
    # body, the headers and the query; none may survive in the result.
    [wf] = workflows_from(
        f"""
workflows:
  - name: login
    schedule: {{every: 1m}}
    steps:
      - name: login
        type: http
        url: "{lab.base_url}/json"
        extract: {{token: {{json: "$.token", secret: true}}}}
      - name: echo
        type: http
        method: POST
        url: "{lab.base_url}/echo?password=${{env:DEMO_PASSWORD}}&page=1"
        headers: {{Authorization: "Bearer {{{{ steps.login.token }}}}"}}
        json: {{password: "${{env:DEMO_PASSWORD}}"}}
        expect: {{json: {{"$.body": {{contains: nothing-like-this}}}}}}
""",
        environ={"DEMO_PASSWORD": "s3cret-pass"},
    )
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.FAILED
    text = repr(result)
    assert "s3cret-pass" not in text
    assert "tok-123456" not in text
    login, echo = result.steps
    assert login.extracted == {"token": "***"}
    assert "page=1" in echo.request["url"]
    # The server did receive the password (echoed in the query dict), masked on the way in.
    assert '"password": "***"' in (echo.body_excerpt or "")
    assert echo.request["url"].startswith(lab.base_url)


async def test_credentials_are_not_carried_to_another_host(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    # 127.0.0.1 -> localhost is another host: the Authorization header must be dropped.
    [wf] = workflows_from(f"""
workflows:
  - name: hop
    schedule: {{every: 1m}}
    steps:
      - name: s
        type: http
        url: "{lab.base_url}/redirect-to?to=http://localhost:{lab.port}/echo"
        headers: {{Authorization: Bearer abcdef}}
        expect: {{json: {{"$.headers.Authorization": {{exists: false}}}}}}
""")
    result = await engine.run(wf)
    assert result.status is ExecutionStatus.SUCCEEDED, result.reason


async def test_tcp_step(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText, unused_tcp_port: int
) -> None:
    [up, down] = workflows_from(f"""
workflows:
  - name: up
    schedule: {{every: 1m}}
    steps: [{{name: c, type: tcp, host: 127.0.0.1, port: {lab.port}, expect: {{max_duration: 5s}}}}]
  - name: down
    schedule: {{every: 1m}}
    steps: [{{name: c, type: tcp, host: 127.0.0.1, port: {unused_tcp_port}}}]
""")
    ok = await engine.run(up)
    assert ok.status is ExecutionStatus.SUCCEEDED
    assert ok.steps[0].timings.connect_ms is not None
    bad = await engine.run(down)
    assert bad.status is ExecutionStatus.ERROR
    assert (bad.reason or "").startswith("c: connection:")


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[int, trustme.CA]]:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1", not_after=datetime.now(UTC) + timedelta(days=10))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    app = web.Application()

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="hi")

    app.router.add_get("/", hello)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    yield runner.addresses[0][1], ca
    await runner.cleanup()


async def test_tls_step_reads_days_to_expiry(
    tls_server: tuple[int, trustme.CA], engine: Engine, workflows_from: WorkflowsFromText
) -> None:
    port, _ca = tls_server
    [unverified, expiring, verified] = workflows_from(f"""
workflows:
  - name: unverified
    schedule: {{every: 1m}}
    steps:
      - name: cert
        type: tls
        host: 127.0.0.1
        port: {port}
        server_name: localhost
        verify: false
        expect: {{min_days_valid: 5}}
  - name: expiring
    schedule: {{every: 1m}}
    steps:
      - {{name: cert, type: tls, host: 127.0.0.1, port: {port}, server_name: localhost, verify: false, expect: {{min_days_valid: 30}}}}
  - name: verified
    schedule: {{every: 1m}}
    steps:
      - {{name: cert, type: tls, host: 127.0.0.1, port: {port}, server_name: localhost}}
""")
    r = await engine.run(unverified)
    assert r.status is ExecutionStatus.SUCCEEDED, r.reason
    days = r.steps[0].assertions[0].actual
    assert 9.0 < days <= 10.0
    # Recorded with every result, extracted or not: the tls_expiry alert rule reads it.
    assert 9.0 < r.steps[0].extracted["days_to_expiry"] <= 10.0
    r = await engine.run(expiring)
    assert r.status is ExecutionStatus.FAILED
    assert "expires in 9." in (r.reason or "") or "expires in 10." in (r.reason or "")
    r = await engine.run(verified)  # signed by a CA the system does not trust
    assert r.status is ExecutionStatus.ERROR
    assert (r.reason or "").startswith("cert: TLS")


PY_STEPS = """
async def login(api):
    api.secret("py-secret-value")
    resp = await api.session.get(api.args["url"])
    data = await resp.json()
    return {"token": data["token"], "echo": "py-secret-value", "n": api.args["n"]}

async def must_fail(api):
    assert api.steps["first"]["n"] == 99, "n should be 99"
    return {}

async def boom(api):
    raise RuntimeError("kaput")
"""


async def test_python_steps(
    lab: Lab, engine: Engine, workflows_from: WorkflowsFromText, tmp_path: Path
) -> None:
    (tmp_path / "journeys_pysteps.py").write_text(PY_STEPS)
    [wf, boom] = workflows_from(f"""
workflows:
  - name: py
    schedule: {{every: 1m}}
    steps:
      - name: first
        type: python
        function: journeys_pysteps:login
        args: {{url: "{lab.base_url}/json", n: 3}}
        expect: {{json: {{"$.token": tok-123456, "$.n": 3}}}}
        extract: {{tok: {{json: "$.token"}}}}
      - name: second
        type: python
        function: journeys_pysteps:must_fail
  - name: boom
    schedule: {{every: 1m}}
    steps: [{{name: b, type: python, function: journeys_pysteps:boom}}]
""")
    result = await engine.run(wf)
    first, second = result.steps
    assert first.status is StepStatus.SUCCEEDED
    assert first.extracted == {"tok": "tok-123456"}
    assert "py-secret-value" not in repr(result)
    assert second.status is StepStatus.FAILED
    assert result.reason == "second: n should be 99"
    r = await engine.run(boom)
    assert r.status is ExecutionStatus.ERROR
    assert r.reason == "b: RuntimeError: kaput"
