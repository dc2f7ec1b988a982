"""Shared fixtures: a real HTTP 'lab' server on loopback for engine edge cases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from support import Lab, WorkflowsFromText


def _lab_app(lab_ref: list[Lab]) -> web.Application:
    def hit(name: str) -> None:
        lab_ref[0].hits[name] = lab_ref[0].hits.get(name, 0) + 1

    async def json_ok(request: web.Request) -> web.Response:
        hit("json")
        return web.json_response(
            {
                "token": "tok-123456",
                "user": {"id": 7, "email": "demo@example.com"},
                "items": [{"id": 1}, {"id": 2}],
                "count": 2,
                "ok": True,
            },
            headers={"X-Request-Id": "req-42"},
        )

    async def echo(request: web.Request) -> web.Response:
        hit("echo")
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "query": dict(request.query),
                "headers": {k: v for k, v in request.headers.items()},
                "body": body.decode(errors="replace"),
            }
        )

    async def status(request: web.Request) -> web.Response:
        hit("status")
        return web.Response(status=int(request.match_info["code"]), text="status page")

    async def big(request: web.Request) -> web.StreamResponse:
        size = int(request.query.get("n", "2000000"))
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await resp.prepare(request)
        chunk = b"x" * 65536
        sent = 0
        while sent < size:
            part = chunk[: min(len(chunk), size - sent)]
            await resp.write(part)
            sent += len(part)
        await resp.write_eof()
        return resp

    async def redirect(request: web.Request) -> web.Response:
        hit("redirect")
        n = int(request.match_info["n"])
        target = f"/redirect/{n - 1}" if n > 1 else "/json"
        raise web.HTTPFound(target)

    async def redirect_to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def hang(request: web.Request) -> web.Response:
        hit("hang")
        await lab_ref[0].release.wait()
        return web.Response(text="released")

    async def flaky(request: web.Request) -> web.Response:
        hit("flaky")
        # Fails the first two calls, then succeeds: for retries.
        if lab_ref[0].hits["flaky"] <= 2:
            return web.Response(status=503, text="try later")
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/json", json_ok)
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/big", big)
    app.router.add_get("/redirect/{n}", redirect)
    app.router.add_get("/redirect-to", redirect_to)
    app.router.add_get("/hang", hang)
    app.router.add_get("/flaky", flaky)
    return app


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    ref: list[Lab] = []
    runner = web.AppRunner(_lab_app(ref), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    ref.append(Lab(base_url=f"http://127.0.0.1:{port}", port=port))
    try:
        yield ref[0]
    finally:
        ref[0].release.set()
        await runner.cleanup()


# --- workflows from YAML text, and an engine ------------------------------------------------

from pathlib import Path  # noqa: E402

from wfmon.clock import SystemClock  # noqa: E402
from wfmon.config.loader import load  # noqa: E402
from wfmon.domain.workflow import Workflow  # noqa: E402
from wfmon.httpclient import HttpClientFactory  # noqa: E402
from wfmon.runner.engine import Engine  # noqa: E402


@pytest.fixture
def workflows_from(tmp_path: Path) -> WorkflowsFromText:
    """Write YAML to a file, load it, and fail the test on any config problem."""

    def make(
        text: str, environ: dict[str, str] | None = None, name: str = "wfmon.yaml"
    ) -> list[Workflow]:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = load(path, environ=environ or {})
        assert not result.problems, "\n".join(str(p) for p in result.problems)
        return result.workflows

    return make


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    clock = SystemClock()
    http = HttpClientFactory(clock=clock)
    yield Engine(http=http, clock=clock, environ={"DEMO_PASSWORD": "s3cret-pass"})
    await http.aclose()
