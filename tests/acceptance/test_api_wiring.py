"""The API wired the way the composition root does it: inside the daemon (events from the
scheduler reach SSE clients), and alone as `wfmon serve` (a separate process, with users
and tokens made by the CLI)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

from support import Lab
from wfmon.api.auth.tokens import TokenService
from wfmon.api.settings import ApiSettings
from wfmon.api.wiring import attach
from wfmon.app import build_app
from wfmon.daemon import Daemon
from wfmon.settings import Settings
from wfmon.storage.rollups import RollupRepository
from wfmon.storage.tokens import TokenRepository

CONFIG = """\
daemon: {{watch: false, health_interval: 1h, report_interval: 0}}
workflows:
  - name: checkout
    schedule: {{every: 1s}}
    steps:
      - {{name: home, type: http, url: "{lab}/json", expect: {{status: 200}}}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def first_event(client: httpx.AsyncClient, kind: str) -> dict[str, object]:
    async with client.stream("GET", "/api/v1/events", params={"kind": kind}) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                data: dict[str, object] = json.loads(line[6:])
                return data
    raise AssertionError("the stream ended")


async def test_the_daemon_serves_the_api_and_its_runs_reach_live_clients(
    tmp_path: Path, lab: Lab
) -> None:
    path = tmp_path / "wfmon.yaml"
    path.write_text(CONFIG.format(lab=lab.base_url))
    settings = Settings.from_env(
        {}, config_path=path, data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/w.db"
    )
    port = free_port()
    async with build_app(settings) as app:
        new, _ = await TokenService(TokenRepository(app.db), app.clock).create("t", "read")
        daemon = Daemon(app, instance="t")
        attach(daemon, settings=ApiSettings(port=port, event_poll_s=0.05))
        running = asyncio.create_task(daemon.run())
        headers = {"Authorization": f"Bearer {new.token}"}
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10
            ) as client:
                for _ in range(200):  # the API starts beside the scheduler: wait for it
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
                data = await asyncio.wait_for(first_event(client, "execution.finished"), 30)
                assert data["workflow"] == "checkout"
                assert data["status"] == "succeeded"
                overview = (await client.get("/api/v1/overview")).json()
                assert overview["workflows"][0]["name"] == "checkout"
        finally:
            daemon.stop.set()
            assert await asyncio.wait_for(running, timeout=30) == 0
        # The journal flushed its rollups on the way out.
        assert not await RollupRepository(app.db).is_empty()


async def _cli(tmp_path: Path, *args: str, stdin: bytes | None = None) -> tuple[int, str]:
    env = {
        **os.environ,
        "WFMON_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
        "WFMON_CONFIG": str(tmp_path / "wfmon.yaml"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wfmon",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(stdin), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_wfmon_serve_runs_the_api_alone_with_cli_made_users_and_tokens(
    tmp_path: Path, lab: Lab
) -> None:
    (tmp_path / "wfmon.yaml").write_text(CONFIG.format(lab=lab.base_url))
    code, out = await _cli(
        tmp_path, "user", "create", "bob", "--role", "viewer", "--password-stdin",
        stdin=b"a long enough password\n",
    )  # fmt: skip
    assert code == 0, out
    code, out = await _cli(tmp_path, "token", "create", "--name", "ci", "--scope", "write")
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    assert token.startswith("wfm_")

    port = free_port()
    env = {
        **os.environ,
        "WFMON_DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
        "WFMON_CONFIG": str(tmp_path / "wfmon.yaml"),
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "wfmon", "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for _ in range(200):  # a new process: wait until it listens, bounded
                try:
                    await client.get("/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            assert (await client.get("/api/v1/overview")).status_code == 401
            login = await client.post(
                "/api/v1/auth/login",
                json={"username": "bob", "password": "a long enough password"},
            )
            assert login.status_code == 200
            headers = {"Authorization": f"Bearer {token}"}
            run = await client.post("/api/v1/workflows/checkout/run", headers=headers)
            assert run.status_code == 202, run.text
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(server.communicate(), 30)
    assert server.returncode == 0, output.decode()
