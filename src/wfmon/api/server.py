"""Serving the API with uvicorn inside our own event loop.

`api_service(ctx, host, port, stop)` is a daemon service: it serves until `stop` is set,
then shuts down cleanly (live streams are ended first, so the graceful shutdown does not
wait on them). uvicorn's own signal handling is off: the daemon (or `wfmon serve`) owns
SIGTERM and SIGINT and sets `stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
from collections.abc import Callable, Iterator

import uvicorn
from fastapi import FastAPI

from wfmon.api.app import create_api, services_of
from wfmon.api.auth import passwords
from wfmon.api.context import ApiContext
from wfmon.clock import Clock
from wfmon.storage.accounts import UserRepository

log = logging.getLogger(__name__)

ADMIN = "admin"
Announce = Callable[[str], None]


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers, with an event for "listening"."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


class ApiServer:
    """A running API: `start()`, `port`, `stop()` (tests and benchmarks use it too)."""

    def __init__(
        self, api: FastAPI, host: str = "127.0.0.1", port: int = 8080, *, http: str = "auto"
    ) -> None:
        self.api = api
        self.host = host
        config = uvicorn.Config(
            api,
            host=host,
            port=port,
            http=http,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
            proxy_headers=True,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        servers = self._server.servers
        if not servers or not servers[0].sockets:
            raise RuntimeError("the server is not listening")
        port: int = servers[0].sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._serve(), name="wfmon-api")
        ready = asyncio.create_task(self._server.ready.wait())
        done, _ = await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            await self._task  # raises why it could not start
            raise RuntimeError("the API server stopped before listening")

    async def _serve(self) -> None:
        try:
            await self._server.serve()
        except SystemExit as error:  # uvicorn exits when it cannot bind
            raise OSError(f"cannot listen on {self.host}: see the log above") from error

    async def stop(self) -> None:
        if self._task is None:
            return
        # End live streams first: graceful shutdown waits for open responses.
        await services_of(self.api).hub.close()
        self._server.should_exit = True
        await self._task


async def ensure_admin(users: UserRepository, clock: Clock, announce: Announce) -> bool:
    """On first run (no user at all), create `admin` with a random password, shown once."""
    if await users.count() > 0:
        return False
    password = passwords.generate_password()
    created = await users.add(ADMIN, await passwords.hash_async(password), "admin", clock.now())
    if created is None:  # another process created it first
        return False
    announce(
        f"wfmon: created the first user {ADMIN!r} with password {password}\n"
        f"       (shown once: change it with `wfmon user passwd {ADMIN}`)"
    )
    return True


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def api_service(
    ctx: ApiContext,
    host: str,
    port: int,
    stop: asyncio.Event,
    *,
    announce: Announce = _to_stderr,
) -> None:
    """Serve the API until `stop` is set. A failure to start is logged, not raised: the
    daemon keeps monitoring without its API."""
    clock = ctx.clock or ctx.app.clock
    await ensure_admin(UserRepository(ctx.app.db), clock, announce)
    server = ApiServer(create_api(ctx), host, port, http=ctx.settings.http)
    try:
        await server.start()
    except OSError as error:
        log.error("API not started: %s", error, extra={"event": "api.failed"})
        return
    log.info("API listening on %s", server.url, extra={"event": "api.started", "url": server.url})
    try:
        await stop.wait()
    finally:
        await server.stop()
        log.info("API stopped", extra={"event": "api.stopped"})
