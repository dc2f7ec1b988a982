"""Schemathesis against the OpenAPI document: generated requests never cause a 5xx, and
answers match the schema (status codes, content types, bodies).

Schemathesis runs as its own process against the real server on loopback (its client is
synchronous; in this process it would block the server's event loop). Bounded: a few
examples per operation and a fixed seed, so the suite stays fast and repeatable.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

from api_support import Harness, execution, firing_alert, now_utc
from wfmon.domain.run import ExecutionStatus

EXAMPLES = os.environ.get("WFMON_SCHEMATHESIS_EXAMPLES", "10")
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)


async def test_generated_requests_never_cause_a_server_error(api: Harness, tmp_path: Path) -> None:
    now = now_utc()
    await api.record(
        [
            execution(
                now - timedelta(minutes=i),
                status=ExecutionStatus.FAILED if i % 3 else ExecutionStatus.SUCCEEDED,
            )
            for i in range(5)
        ]
    )
    await firing_alert(api)  # alert 1: the smallest id, which the coverage phase tries
    await api.services.operator().add_silence(
        author="test",
        comment="seeded",
        source="api",
        starts_at=now,
        ends_at=now + timedelta(hours=1),
    )
    schemathesis = Path(sys.executable).parent / "schemathesis"
    process = await asyncio.create_subprocess_exec(
        str(schemathesis),
        "run",
        f"{api.url}/api/openapi.json",
        "--url",
        api.url,
        "-H",
        f"Authorization: Bearer {api.write_token}",
        "--checks",
        CHECKS,
        "--max-examples",
        EXAMPLES,
        "--seed",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        # A stream never ends; it has tests of its own (test_api_events.py).
        "--exclude-path",
        "/api/v1/events",
        "--no-color",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 240)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
