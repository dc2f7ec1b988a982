"""The API's settings, from the environment (and `wfmon serve` options).

| variable | default | meaning |
|---|---|---|
| WFMON_API_HOST / WFMON_API_PORT | 127.0.0.1 / 8080 | where to listen |
| WFMON_API_SECURE_COOKIES | auto | `Secure` cookies: auto (over https), always, never |
| WFMON_API_SESSION_IDLE | 2h | a session unused this long ends |
| WFMON_API_SESSION_MAX | 24h | a session ends this long after login, used or not |
| WFMON_PUBLIC_STATUS | off | serve `/status`: workflows marked `public: true` |
| WFMON_METRICS_PUBLIC | off | serve `/metrics` without a token |
| WFMON_API_HTTP | auto | uvicorn's HTTP parser: auto (httptools if installed), h11, httptools |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from wfmon.config.base import parse_duration

SecureCookies = Literal["auto", "always", "never"]
HttpParser = Literal["auto", "h11", "httptools"]
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ApiSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    secure_cookies: SecureCookies = "auto"
    session_idle_s: float = 2 * 3600.0
    session_max_s: float = 24 * 3600.0
    public_status: bool = False
    metrics_public: bool = False
    # Login throttling: failures per (address, user) and per address within the window.
    login_failures_per_user: int = 5
    login_failures_per_ip: int = 20
    login_window_s: float = 900.0
    # How long computed views are served from memory (many dashboards, one computation).
    overview_ttl_s: float = 1.0
    timeseries_ttl_s: float = 2.0
    auth_cache_s: float = 5.0  # a revoked token or ended session may work this long elsewhere
    # Live events: how often the event log is polled, and the SSE/WS keep-alive.
    event_poll_s: float = 0.15
    heartbeat_s: float = 15.0
    client_queue: int = 1000  # events buffered per live client before it is dropped
    max_manual_runs: int = 8  # `POST /workflows/{name}/run` in flight at once
    http: HttpParser = "auto"

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> ApiSettings:
        env = os.environ if environ is None else environ
        secure = env.get("WFMON_API_SECURE_COOKIES", "auto").lower()
        if secure not in ("auto", "always", "never"):
            raise ValueError("WFMON_API_SECURE_COOKIES must be auto, always or never")
        http = env.get("WFMON_API_HTTP", "auto").lower()
        if http not in ("auto", "h11", "httptools"):
            raise ValueError("WFMON_API_HTTP must be auto, h11 or httptools")
        defaults = cls()
        return cls(
            host=host or env.get("WFMON_API_HOST") or defaults.host,
            port=port if port is not None else int(env.get("WFMON_API_PORT") or defaults.port),
            secure_cookies=secure,  # type: ignore[arg-type]  # checked just above
            session_idle_s=_duration(env, "WFMON_API_SESSION_IDLE", defaults.session_idle_s),
            session_max_s=_duration(env, "WFMON_API_SESSION_MAX", defaults.session_max_s),
            public_status=env.get("WFMON_PUBLIC_STATUS", "").lower() in _TRUE,
            metrics_public=env.get("WFMON_METRICS_PUBLIC", "").lower() in _TRUE,
            http=http,  # type: ignore[arg-type]  # checked above
        )


def _duration(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        return parse_duration(text)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from error
