"""The tls step: the server certificate's days to expiry (and that it verifies)."""

from __future__ import annotations

import asyncio
import ssl
from datetime import datetime
from typing import ClassVar, Literal

from cryptography import x509
from pydantic import Field

from wfmon.config.base import ExpectBase, StepBase
from wfmon.domain.run import AssertionResult, Timings
from wfmon.runner import assertions
from wfmon.runner.context import StepContext, StepOutcome


class TlsExpect(ExpectBase):
    min_days_valid: float | None = Field(default=None, ge=0)


class TlsStep(StepBase):
    """Handshake with host:port and read the certificate. `verify: false` still reads it."""

    type: Literal["tls"]
    host: str
    port: int | str = 443
    server_name: str | None = None
    verify: bool = True
    expect: TlsExpect = Field(default_factory=TlsExpect)

    builtin_outputs: ClassVar[frozenset[str] | None] = frozenset(
        {"duration_ms", "days_to_expiry", "not_after", "subject", "issuer"}
    )
    recorded_outputs: ClassVar[frozenset[str]] = frozenset({"days_to_expiry", "not_after"})
    default_timeout: ClassVar[float] = 10.0

    async def run(self, ctx: StepContext) -> StepOutcome:
        host = ctx.renderer.render_str(self.host)
        port = int(ctx.renderer.render_str(self.port))
        server_name = ctx.renderer.render_str(self.server_name) if self.server_name else host
        context: ssl.SSLContext = ctx.http.ssl_context(self.verify)
        start = ctx.clock.monotonic()
        _reader, writer = await asyncio.open_connection(
            host, port, ssl=context, server_hostname=server_name
        )
        elapsed = (ctx.clock.monotonic() - start) * 1000.0
        try:
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        finally:
            writer.close()
        if not der:
            raise ssl.SSLError("the server presented no certificate")
        cert = x509.load_der_x509_certificate(der)
        not_after: datetime = cert.not_valid_after_utc
        days = (not_after - ctx.clock.now()).total_seconds() / 86400.0
        checks = assertions.check_duration(self.expect.max_duration, elapsed)
        if self.expect.min_days_valid is not None:
            checks.append(
                AssertionResult(
                    "certificate days to expiry",
                    ">=",
                    self.expect.min_days_valid,
                    round(days, 1),
                    days >= self.expect.min_days_valid,
                    ""
                    if days >= self.expect.min_days_valid
                    else f"certificate for {server_name} expires in {days:.1f} days "
                    f"(on {not_after:%Y-%m-%d}); expected at least {self.expect.min_days_valid:g}",
                )
            )
        return StepOutcome(
            timings=Timings(tls_ms=elapsed, total_ms=elapsed),
            assertions=checks,
            outputs={
                "duration_ms": elapsed,
                "days_to_expiry": days,
                "not_after": not_after.isoformat(),
                "subject": cert.subject.rfc4514_string(),
                "issuer": cert.issuer.rfc4514_string(),
            },
            request={"host": host, "port": port, "server_name": server_name},
        )
