"""The python step: an async function `module:function` for journeys YAML cannot express.

The function receives a `PythonStepApi` and returns a mapping (its outputs, readable by later
steps as `steps.NAME.KEY` and checked by `expect.json`). `assert` failures count as a failed
assertion; any other exception is an error.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import aiohttp
from pydantic import Field, field_validator

from wfmon.config.base import ExpectBase, Matcher, StepBase
from wfmon.domain.run import AssertionResult, Timings
from wfmon.runner import assertions
from wfmon.runner.context import StepContext, StepOutcome


@dataclass
class PythonStepApi:
    """What a python step function is given."""

    args: dict[str, Any]  # the step's `args:`, templates rendered
    vars: Mapping[str, Any]
    steps: Mapping[str, Mapping[str, Any]]  # outputs of earlier steps
    session: aiohttp.ClientSession  # the execution's HTTP session (cookies, pooled connections)
    _ctx: StepContext

    def secret(self, value: Any) -> None:
        """Mark a value secret so it is masked in stored results and output."""
        self._ctx.secret(value)

    def render(self, template: str) -> Any:
        return self._ctx.renderer.render(template)


StepFunction = Callable[[PythonStepApi], Awaitable[Mapping[str, Any] | None]]


def resolve(target: str) -> StepFunction:
    """Import `package.module:function`; raises ValueError with the reason."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ValueError(f"{target!r}: write the function as module:function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r}: {exc}") from exc
    fn = getattr(module, attr, None)
    if fn is None or not callable(fn):
        raise ValueError(f"{module_name!r} has no function {attr!r}")
    return fn  # type: ignore[no-any-return]  # checked callable; its signature is the user's


class PythonExpect(ExpectBase):
    json_paths: dict[str, Matcher] = Field(default_factory=dict, alias="json")


class PythonStep(StepBase):
    type: Literal["python"]
    function: str
    args: dict[str, Any] = Field(default_factory=dict)
    expect: PythonExpect = Field(default_factory=PythonExpect)

    builtin_outputs: ClassVar[frozenset[str] | None] = None  # whatever the function returns
    default_timeout: ClassVar[float] = 30.0

    @field_validator("function")
    @classmethod
    def _importable(cls, v: str) -> str:
        resolve(v)
        return v

    async def run(self, ctx: StepContext) -> StepOutcome:
        fn = resolve(self.function)
        ctx_vars = ctx.renderer.context.get("vars", {})
        api = PythonStepApi(
            args=ctx.renderer.render(self.args),
            vars=ctx_vars,
            steps=ctx.outputs,
            session=ctx.session,
            _ctx=ctx,
        )
        start = ctx.clock.monotonic()
        try:
            returned = await fn(api)
        except AssertionError as exc:
            elapsed = (ctx.clock.monotonic() - start) * 1000.0
            message = str(exc) or "assertion failed"
            return StepOutcome(
                timings=Timings(total_ms=elapsed),
                assertions=[AssertionResult("python", "assert", True, False, False, message)],
            )
        elapsed = (ctx.clock.monotonic() - start) * 1000.0
        values = dict(returned or {})
        view = assertions.ResponseView(status=None, headers={}, body=b"", document=values)
        checks = assertions.check_duration(self.expect.max_duration, elapsed)
        checks += assertions.check_json(self.expect.json_paths, view)
        extracted, secret, failures = assertions.extract(self.extract, view)
        return StepOutcome(
            timings=Timings(total_ms=elapsed),
            assertions=checks + failures,
            outputs={**values, **extracted, "duration_ms": elapsed},
            secret_outputs=secret,
            request={"function": self.function},
        )
