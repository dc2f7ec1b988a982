"""The one factory of aiohttp sessions: SSL contexts and tracing are built once and shared.

Building an SSL context costs about 20 ms here, so it is made once per process, not per run.
Each execution gets its own connector by default, so DNS, connect and TLS are timed as a user
meets them; `shared=True` reuses one keep-alive pool (the benchmark's second mode).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp

from wfmon import __version__
from wfmon.clock import Clock

USER_AGENT = f"wfmon/{__version__} (+synthetic monitoring)"


@dataclass
class PhaseTimer:
    """Filled by aiohttp trace callbacks for one request (monotonic seconds); `start` is set
    by the caller just before it sends the request."""

    clock: Clock
    start: float = 0.0
    dns_start: float | None = None
    dns_end: float | None = None
    conn_start: float | None = None
    conn_end: float | None = None
    headers_end: float | None = None

    def dns_ms(self) -> float | None:
        if self.dns_start is None or self.dns_end is None:
            return None
        return (self.dns_end - self.dns_start) * 1000.0

    def connect_ms(self) -> float | None:
        if self.conn_start is None or self.conn_end is None:
            return None
        # aiohttp resolves the host inside "connection create": take DNS out of connect.
        return max(0.0, (self.conn_end - self.conn_start) * 1000.0 - (self.dns_ms() or 0.0))

    def ttfb_ms(self) -> float | None:
        if self.headers_end is None:
            return None
        sent = self.conn_end if self.conn_end is not None else self.start
        return (self.headers_end - sent) * 1000.0


def _timer(ctx: SimpleNamespace) -> PhaseTimer | None:
    timer = ctx.trace_request_ctx
    return timer if isinstance(timer, PhaseTimer) else None


async def _on_dns_start(_s: Any, ctx: SimpleNamespace, _p: Any) -> None:
    if (t := _timer(ctx)) is not None:
        t.dns_start = t.clock.monotonic()


async def _on_dns_end(_s: Any, ctx: SimpleNamespace, _p: Any) -> None:
    if (t := _timer(ctx)) is not None:
        t.dns_end = t.clock.monotonic()


async def _on_conn_start(_s: Any, ctx: SimpleNamespace, _p: Any) -> None:
    if (t := _timer(ctx)) is not None:
        t.conn_start = t.clock.monotonic()


async def _on_conn_end(_s: Any, ctx: SimpleNamespace, _p: Any) -> None:
    if (t := _timer(ctx)) is not None:
        t.conn_end = t.clock.monotonic()


async def _on_request_end(_s: Any, ctx: SimpleNamespace, _p: Any) -> None:
    # Fires when the status line and headers have arrived: time to first byte.
    if (t := _timer(ctx)) is not None:
        t.headers_end = t.clock.monotonic()


def _trace_config() -> aiohttp.TraceConfig:
    # Only the signals timings need: each one costs a few microseconds on every request.
    # The request's start is taken by the caller (PhaseTimer.start).
    trace = aiohttp.TraceConfig()
    trace.on_dns_resolvehost_start.append(_on_dns_start)
    trace.on_dns_resolvehost_end.append(_on_dns_end)
    trace.on_connection_create_start.append(_on_conn_start)
    trace.on_connection_create_end.append(_on_conn_end)
    trace.on_request_end.append(_on_request_end)
    return trace


@dataclass
class HttpClientFactory:
    """Makes sessions for executions. One per process, built by the composition root."""

    clock: Clock
    shared: bool = False
    limit_per_host: int = 0
    _verified: ssl.SSLContext = field(init=False)
    _unverified: ssl.SSLContext = field(init=False)
    _trace: aiohttp.TraceConfig = field(init=False)
    _shared_session: aiohttp.ClientSession | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._verified = ssl.create_default_context()
        unverified = ssl.create_default_context()
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        self._unverified = unverified
        self._trace = _trace_config()

    def ssl_context(self, verify: bool) -> ssl.SSLContext:
        return self._verified if verify else self._unverified

    def new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=self._verified, limit=0, limit_per_host=self.limit_per_host
        )
        return aiohttp.ClientSession(
            connector=connector,
            trace_configs=[self._trace],
            # Journeys log in and keep the session cookie; IP hosts (127.0.0.1) included.
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            headers={"User-Agent": USER_AGENT},
            timeout=aiohttp.ClientTimeout(total=None),
        )

    async def session_for_execution(self) -> tuple[aiohttp.ClientSession, bool]:
        """(session, owned): an owned session must be closed by the execution."""
        if not self.shared:
            return self.new_session(), True
        if self._shared_session is None or self._shared_session.closed:
            self._shared_session = self.new_session()
        return self._shared_session, False

    async def aclose(self) -> None:
        if self._shared_session is not None:
            await self._shared_session.close()
            self._shared_session = None
