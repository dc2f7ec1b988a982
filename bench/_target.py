"""The fast local target the benchmarks share: nginx serving a small JSON file.

Debian's nginx, started with a generated config in a temp dir on a free loopback port
(`master_process on`, one worker, `access_log off`) and stopped at the end. Also the small
process helpers around it and the machine description printed beside the figures.

Imported by the scripts in bench/ as `_target` (the script's own directory is on sys.path);
mypy, run from the repository root, sees it as `bench._target`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp

NGINX = "/usr/sbin/nginx"
BODY = b'{"status": "ok", "service": "bench", "version": "1.0.0", "checks": {"db": "ok"}}\n'
PATH = "/health.json"


class BenchError(RuntimeError):
    """A request or an execution did not do what the benchmark expects."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def nginx_conf(root: Path, port: int) -> str:
    # As root the master hands workers to `nobody`, who cannot read a 0700 temp dir.
    user = "user root;" if os.geteuid() == 0 else ""
    temps = "\n".join(
        f"  {kind}_temp_path {root}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""daemon off;
master_process on;
worker_processes 1;
{user}
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
{temps}
  types {{ application/json json; }}
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port};
    root {root}/www;
  }}
}}
"""


def start_nginx(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    (root / "www").mkdir()
    (root / "www" / PATH.lstrip("/")).write_bytes(BODY)
    conf = root / "nginx.conf"
    conf.write_text(nginx_conf(root, port))
    cmd = [NGINX, "-p", f"{root}/", "-e", f"{root}/error.log", "-c", str(conf)]
    return spawn(cmd, root / "nginx.out"), port


def spawn(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    # Output to a file, not a pipe: nobody reads a pipe while we measure, and a full one
    # would stall the server.
    with log.open("wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running(
    start: Callable[[], tuple[subprocess.Popen[bytes], int]],
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    process, port = start()
    try:
        yield process, port
    finally:
        stop(process)


def tail(log: Path) -> str:
    with contextlib.suppress(OSError):
        return log.read_text(errors="replace")[-500:].strip()
    return ""


async def wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    name = log.stem
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            if process.poll() is not None:
                raise BenchError(f"{name} exited with {process.returncode}: {tail(log)}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise BenchError(f"{name} did not answer {url} within 5 s")


def machine(loop_name: str) -> dict[str, Any]:
    nginx = subprocess.run([NGINX, "-v"], capture_output=True, text=True, check=False)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": platform.processor() or _cpu_model(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "loop": loop_name,
        "nginx": nginx.stderr.strip().removeprefix("nginx version: nginx/"),
        # Other work on the machine moves every figure: worth seeing beside them.
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"
