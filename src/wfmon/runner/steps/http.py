"""The http step: one request (following redirects hop by hop), assertions, extraction."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

import aiohttp
from pydantic import Field, field_validator, model_validator
from yarl import URL

from wfmon.config.base import ExpectBase, Matcher, Model, StepBase
from wfmon.domain.run import AssertionResult, Timings
from wfmon.httpclient import CURRENT_TIMER, PhaseTimer
from wfmon.runner import assertions
from wfmon.runner.context import StepContext, StepOutcome

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_STATUS_RANGE = re.compile(r"^([1-5])xx$|^(\d{3})\s*-\s*(\d{3})$|^(\d{3})$")
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def parse_status(spec: Any) -> tuple[tuple[int, int], ...]:
    """200 | "2xx" | "200-299" | a list of those -> inclusive ranges."""
    items = spec if isinstance(spec, list) else [spec]
    ranges = []
    for item in items:
        if isinstance(item, bool):
            raise ValueError(f"{item!r} is not a status code")
        if isinstance(item, int):
            if not 100 <= item <= 599:
                raise ValueError(f"{item} is not an HTTP status code (100-599)")
            ranges.append((item, item))
            continue
        m = _STATUS_RANGE.match(str(item).strip())
        if not m:
            raise ValueError(f"{item!r} is not a status: use 200, '2xx' or '200-299'")
        if m.group(1):
            base = int(m.group(1)) * 100
            ranges.append((base, base + 99))
        elif m.group(2):
            ranges.append((int(m.group(2)), int(m.group(3))))
        else:
            ranges.append((int(m.group(4)), int(m.group(4))))
    return tuple(ranges)


class HttpExpect(ExpectBase):
    status: int | str | list[int | str] | None = None
    headers: dict[str, Matcher] = Field(default_factory=dict)
    body: Matcher = None
    json_paths: dict[str, Matcher] = Field(default_factory=dict, alias="json")
    json_schema: dict[str, Any] | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, v: Any) -> Any:
        if v is not None:
            parse_status(v)
        return v

    @field_validator("json_schema")
    @classmethod
    def _schema(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError

            try:
                Draft202012Validator.check_schema(v)
            except SchemaError as exc:
                raise ValueError(f"not a valid JSON Schema: {exc.message}") from exc
        return v

    @field_validator("body", mode="after")
    @classmethod
    def _body(cls, v: Any) -> Any:
        if v is None or isinstance(v, str) or (isinstance(v, dict) and "__ops__" in v):
            return v
        raise ValueError("body takes text (equality) or operators such as {contains: ...}")


class BasicAuth(Model):
    username: str
    password: str


class Auth(Model):
    basic: BasicAuth | None = None
    bearer: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Auth:
        if (self.basic is None) == (self.bearer is None):
            raise ValueError("give exactly one of basic or bearer")
        return self


class HttpStep(StepBase):
    """An HTTP request. Without `expect.status`, any status below 400 passes."""

    type: Literal["http"]
    url: str
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    form: dict[str, Any] | None = None
    body: str | None = None
    auth: Auth | None = None
    follow_redirects: bool = True
    max_redirects: int | None = Field(default=None, ge=0, le=50)
    verify_tls: bool = True
    max_response_bytes: int | None = Field(default=None, ge=0)
    expect: HttpExpect = Field(default_factory=HttpExpect)

    builtin_outputs: ClassVar[frozenset[str] | None] = frozenset(
        {"status", "duration_ms", "url", "body"}
    )

    @field_validator("method")
    @classmethod
    def _method(cls, v: str) -> str:
        up = v.upper()
        if up not in METHODS:
            raise ValueError(f"{v!r} is not an HTTP method ({', '.join(METHODS)})")
        return up

    @model_validator(mode="after")
    def _one_body(self) -> HttpStep:
        given = [
            n
            for n, v in (("json", self.json_body), ("form", self.form), ("body", self.body))
            if v is not None
        ]
        if len(given) > 1:
            raise ValueError(f"give at most one request body, not {' and '.join(given)}")
        return self

    async def run(self, ctx: StepContext) -> StepOutcome:
        render = ctx.renderer
        url = URL(render.render_str(self.url))
        _check_url(url)
        headers = {k: render.render_str(v) for k, v in self.headers.items()}
        if self.auth is not None:
            if self.auth.bearer is not None:
                headers["Authorization"] = f"Bearer {render.render_str(self.auth.bearer)}"
            elif self.auth.basic is not None:
                password = render.render_str(self.auth.basic.password)
                ctx.secret(password)
                headers["Authorization"] = aiohttp.BasicAuth(
                    render.render_str(self.auth.basic.username), password
                ).encode()
        params = {k: _query_value(render.render(v)) for k, v in self.query.items()}
        if params:
            url = url.update_query(params)
        kwargs: dict[str, Any] = {}
        if self.json_body is not None:
            kwargs["json"] = render.render(self.json_body)
        elif self.form is not None:
            kwargs["data"] = {k: str(render.render(v)) for k, v in self.form.items()}
        elif self.body is not None:
            kwargs["data"] = render.render_str(self.body).encode()

        limits = ctx.limits
        cap = (
            self.max_response_bytes
            if self.max_response_bytes is not None
            else limits.max_response_bytes
        )
        max_hops = self.max_redirects if self.max_redirects is not None else limits.max_redirects
        outcome = StepOutcome(request={"method": self.method, "url": ctx.redactor.url(str(url))})
        method = self.method
        start = ctx.clock.monotonic()
        first_timer: PhaseTimer | None = None
        hops = 0
        while True:
            timer = PhaseTimer(ctx.clock, start=ctx.clock.monotonic())
            first_timer = first_timer or timer
            token = CURRENT_TIMER.set(timer)  # the connector reports DNS and connect to it
            try:
                async with ctx.session.request(
                    method,
                    url,
                    headers=headers,
                    allow_redirects=False,
                    ssl=ctx.http.ssl_context(self.verify_tls),
                    **kwargs,
                ) as resp:
                    timer.headers_end = ctx.clock.monotonic()
                    location = resp.headers.get("Location")
                    if self.follow_redirects and resp.status in REDIRECTS and location:
                        if hops >= max_hops:
                            outcome.error = f"more than {max_hops} redirects (last to {location})"
                            outcome.response_status = resp.status
                            break
                        hops += 1
                        nxt = url.join(URL(location))
                        _check_url(nxt)  # every hop is re-checked: no file:// or ftp:// hops
                        if nxt.host != url.host:
                            # Never carry credentials to another host (as browsers do).
                            headers = {
                                k: v
                                for k, v in headers.items()
                                if k.lower() not in ("authorization", "cookie")
                            }
                        if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                            method, kwargs = "GET", {}
                        outcome.redirects.append(ctx.redactor.url(str(nxt)))
                        url = nxt
                        continue
                    body, truncated = await _read_capped(resp, cap)
                    view = assertions.ResponseView(
                        status=resp.status, headers=resp.headers, body=body, truncated=truncated
                    )
                    total_ms = (ctx.clock.monotonic() - start) * 1000.0
                    outcome.timings = Timings(
                        dns_ms=first_timer.dns_ms(),
                        connect_ms=first_timer.connect_ms(),
                        tls_ms=None,
                        ttfb_ms=timer.ttfb_ms(),
                        total_ms=total_ms,
                    )
                    outcome.response_status = resp.status
                    outcome.response_headers = resp.headers
                    outcome.body = body
                    outcome.body_truncated = truncated
                    self._evaluate(view, total_ms, outcome)
                    break
            finally:
                CURRENT_TIMER.reset(token)
        if outcome.timings.total_ms == 0.0:
            outcome.timings = Timings(total_ms=(ctx.clock.monotonic() - start) * 1000.0)
        return outcome

    def _evaluate(self, view: assertions.ResponseView, total_ms: float, out: StepOutcome) -> None:
        exp = self.expect
        status = view.status or 0
        ranges = parse_status(exp.status) if exp.status is not None else ((100, 399),)
        expected_text = exp.status if exp.status is not None else "< 400"
        passed = any(lo <= status <= hi for lo, hi in ranges)
        checks: list[AssertionResult] = [
            AssertionResult(
                "status",
                "in",
                expected_text,
                status,
                passed,
                "" if passed else f"status: expected {expected_text}, got {status}",
            )
        ]
        checks += assertions.check_duration(exp.max_duration, total_ms)
        checks += assertions.check_headers(exp.headers, view)
        checks += assertions.check_body(exp.body, view)
        checks += assertions.check_json(exp.json_paths, view)
        checks += assertions.check_schema(exp.json_schema, view)
        values, secret, failures = assertions.extract(self.extract, view)
        out.assertions = checks + failures
        out.outputs = {"status": status, "duration_ms": total_ms, "body": view.text, **values}
        out.secret_outputs = secret


def _check_url(url: URL) -> None:
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"refusing URL {str(url)!r}: only http(s) URLs with a host are allowed")


def _query_value(value: Any) -> str | list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    """Read at most `cap` bytes; a larger body is cut and marked truncated."""
    chunks: list[bytes] = []
    size = 0
    while size <= cap:
        chunk = await resp.content.readany()
        if not chunk:
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
    body = b"".join(chunks)
    return body[:cap], True
