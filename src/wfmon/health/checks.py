"""Self health checks. Each returns a CheckResult saying what failed and why; the decisions
(is a lag, a backlog, a disk too much?) are pure functions of the measured facts."""

from __future__ import annotations

import shutil
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from wfmon.clock import Clock
from wfmon.errors import StorageError
from wfmon.storage import Database

DATABASE = "database"
TARGET = "target"
LAG = "scheduler_lag"
BACKLOG = "backlog"
DISK = "disk"
HEARTBEAT = "heartbeat"
ALL_CHECKS = (DATABASE, TARGET, LAG, BACKLOG, DISK, HEARTBEAT)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    latency_ms: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None without values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    index = min(max(round(q) - 1, 0), 98)
    return cuts[index]


def judge_lag(lags_s: Sequence[float], warn_s: float) -> CheckResult:
    p50, p99 = percentile(lags_s, 50), percentile(lags_s, 99)
    data = {"p50_s": p50, "p99_s": p99, "samples": len(lags_s)}
    if p99 is None:
        return CheckResult(LAG, True, "no runs started yet", data=data)
    text = f"slots start {p50:.3f} s late at p50, {p99:.3f} s at p99"
    if p99 > warn_s:
        return CheckResult(LAG, False, f"{text} (over {warn_s:g} s)", data=data)
    return CheckResult(LAG, True, text, data=data)


def judge_backlog(waiting: int, in_flight: int, max_concurrency: int) -> CheckResult:
    data = {"waiting": waiting, "in_flight": in_flight, "max_concurrency": max_concurrency}
    text = f"{waiting} run(s) waiting for a place, {in_flight} in flight (limit {max_concurrency})"
    # Waiting runs are normal in a burst; as many waiting as may run at once is not.
    return CheckResult(BACKLOG, waiting < max_concurrency, text, data=data)


def judge_disk(path: Path, free_bytes: int, total_bytes: int, min_free_mb: int) -> CheckResult:
    free_mb = free_bytes / 1024 / 1024
    share = free_bytes / total_bytes if total_bytes else 0.0
    data = {"free_mb": round(free_mb, 1), "free_ratio": round(share, 4), "path": str(path)}
    text = f"{free_mb:,.0f} MB free ({share:.0%}) at {path}"
    if free_mb < min_free_mb:
        return CheckResult(DISK, False, f"{text}: below {min_free_mb} MB", data=data)
    return CheckResult(DISK, True, text, data=data)


async def check_database(db: Database) -> CheckResult:
    try:
        latency = await db.ping()
    except StorageError as error:
        return CheckResult(DATABASE, False, f"database: {error}")
    return CheckResult(
        DATABASE, True, f"{db.dialect} reachable in {latency:.1f} ms", latency_ms=latency
    )


async def check_target(
    session: aiohttp.ClientSession, url: str | None, clock: Clock, timeout_s: float = 10.0
) -> CheckResult:
    if not url:
        return CheckResult(TARGET, True, "no health URL configured (daemon.health_url)")
    start = clock.monotonic()
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
            await resp.read()
            latency = (clock.monotonic() - start) * 1000.0
            data = {"url": url, "status": resp.status}
            if resp.status >= 400:
                return CheckResult(
                    TARGET, False, f"API: {url} answered {resp.status}", latency, data
                )
            return CheckResult(TARGET, True, f"API: {url} answered {resp.status}", latency, data)
    except TimeoutError:
        return CheckResult(
            TARGET, False, f"API: no answer from {url} in {timeout_s:g} s", data={"url": url}
        )
    except aiohttp.ClientConnectorError as error:
        reason = error.os_error.strerror or str(error.os_error)
        return CheckResult(TARGET, False, f"API: {reason.lower()} to {url}", data={"url": url})
    except aiohttp.ClientError as error:
        return CheckResult(
            TARGET, False, f"API: {type(error).__name__} from {url}: {error}", data={"url": url}
        )


def check_disk(path: Path, min_free_mb: int) -> CheckResult:
    target = path if path.exists() else path.parent
    try:
        usage = shutil.disk_usage(target if str(target) else ".")
    except OSError as error:
        return CheckResult(DISK, False, f"cannot read disk usage of {path}: {error.strerror}")
    return judge_disk(path, usage.free, usage.total, min_free_mb)
