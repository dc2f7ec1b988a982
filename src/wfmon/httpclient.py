"""The one factory of aiohttp sessions: SSL contexts are built once and shared.

Building an SSL context costs about 20 ms here, so it is made once per process, not per run.
Each execution gets its own connector by default, so DNS, connect and TLS are timed as a user
meets them; `shared=True` reuses one keep-alive pool (the benchmark's second mode).

Timings come from a connector that times its own DNS and connect phases, reporting to the
PhaseTimer of the request being made (a context variable, so concurrent executions sharing
a connector never mix their timers). aiohttp's tracing would do the same, but once any trace
is configured it builds and sends a dozen signal objects per request: about a tenth of the
run engine's CPU time.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.helpers import is_ip_address

from wfmon import __version__
from wfmon.clock import Clock

USER_AGENT = f"wfmon/{__version__} (+synthetic monitoring)"


@dataclass
class PhaseTimer:
    """Phase times of one request, in monotonic seconds; `start` is set by the caller just
    before it sends the request, `headers_end` when the response headers have arrived."""

    clock: Clock
    start: float = 0.0
    dns_s: float | None = None  # None: no lookup (an IP address, or a reused connection)
    connect_s: float | None = None  # None: a reused connection
    headers_end: float | None = None

    def dns_ms(self) -> float | None:
        return None if self.dns_s is None else self.dns_s * 1000.0

    def connect_ms(self) -> float | None:
        return None if self.connect_s is None else self.connect_s * 1000.0

    def ttfb_ms(self) -> float | None:
        """From the request being sent (after DNS and connect) to its response headers."""
        if self.headers_end is None:
            return None
        setup = (self.dns_s or 0.0) + (self.connect_s or 0.0)
        return max(0.0, (self.headers_end - self.start - setup) * 1000.0)


CURRENT_TIMER: ContextVar[PhaseTimer | None] = ContextVar("wfmon_phase_timer", default=None)


class TimedConnector(aiohttp.TCPConnector):
    """A TCPConnector that reports DNS and connect (TCP + TLS) time to the current timer.

    It overrides two of aiohttp's internal steps; the engine tests assert the timings, so
    an aiohttp upgrade that renames them fails loudly rather than silently losing them.
    """

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Any] | None = None
    ) -> list[ResolveResult]:
        timer = CURRENT_TIMER.get()
        if timer is None or is_ip_address(host):
            return await super()._resolve_host(host, port, traces=traces)
        start = timer.clock.monotonic()
        try:
            return await super()._resolve_host(host, port, traces=traces)
        finally:
            timer.dns_s = timer.clock.monotonic() - start

    async def _create_connection(
        self,
        req: Any,
        traces: list[Any],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109  # aiohttp's signature, overridden
    ) -> Any:
        timer = CURRENT_TIMER.get()
        if timer is None:
            return await super()._create_connection(req, traces, timeout)
        start = timer.clock.monotonic()
        try:
            return await super()._create_connection(req, traces, timeout)
        finally:
            # Resolution happens inside connection creation: take it out of connect.
            timer.connect_s = timer.clock.monotonic() - start - (timer.dns_s or 0.0)


@dataclass
class HttpClientFactory:
    """Makes sessions for executions. One per process, built by the composition root."""

    clock: Clock
    shared: bool = False
    limit_per_host: int = 0
    _verified: ssl.SSLContext = field(init=False)
    _unverified: ssl.SSLContext = field(init=False)
    _shared_session: aiohttp.ClientSession | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._verified = ssl.create_default_context()
        unverified = ssl.create_default_context()
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        self._unverified = unverified

    def ssl_context(self, verify: bool) -> ssl.SSLContext:
        return self._verified if verify else self._unverified

    def new_session(self) -> aiohttp.ClientSession:
        connector = TimedConnector(ssl=self._verified, limit=0, limit_per_host=self.limit_per_host)
        return aiohttp.ClientSession(
            connector=connector,
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
