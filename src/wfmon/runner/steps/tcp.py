"""The tcp step: can a connection be opened, and how fast."""

from __future__ import annotations

import asyncio
import contextlib
from typing import ClassVar, Literal

from pydantic import Field

from wfmon.config.base import ExpectBase, StepBase
from wfmon.domain.run import Timings
from wfmon.runner import assertions
from wfmon.runner.context import StepContext, StepOutcome


class TcpStep(StepBase):
    """Open a TCP connection to host:port and close it."""

    type: Literal["tcp"]
    host: str
    port: int | str
    expect: ExpectBase = Field(default_factory=ExpectBase)

    builtin_outputs: ClassVar[frozenset[str] | None] = frozenset({"duration_ms"})
    default_timeout: ClassVar[float] = 5.0

    async def run(self, ctx: StepContext) -> StepOutcome:
        host = ctx.renderer.render_str(self.host)
        port = int(ctx.renderer.render_str(self.port))
        start = ctx.clock.monotonic()
        _reader, writer = await asyncio.open_connection(host, port)
        elapsed = (ctx.clock.monotonic() - start) * 1000.0
        writer.close()
        # The peer may close first: the connect, which is what we measure, succeeded anyway.
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return StepOutcome(
            timings=Timings(connect_ms=elapsed, total_ms=elapsed),
            assertions=assertions.check_duration(self.expect.max_duration, elapsed),
            outputs={"duration_ms": elapsed},
            request={"host": host, "port": port},
        )
