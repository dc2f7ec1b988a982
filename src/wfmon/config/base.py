"""Building blocks shared by every config model: durations, matchers, extraction, steps."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

from wfmon.runner.matchers import normalise_matcher

if TYPE_CHECKING:
    from wfmon.runner.context import StepContext, StepOutcome

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """'500ms', '30s', '5m', '1h', '1d' or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or text like '30s', '500ms', '5m'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNITS[match.group(2)]
    raise ValueError(
        f"{value!r} is not a duration; write a number with a unit: 500ms, 30s, 5m, 1h, 1d"
    )


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$"},
            ],
            "description": "seconds, or text such as 500ms, 30s, 5m, 1h, 1d",
        }
    ),
]
"""Seconds, written in config as '30s', '500ms', '5m', '1h' or a bare number."""

STEP_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Model(BaseModel):
    """Every config model rejects unknown keys and is immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _matcher(value: Any) -> Any:
    return normalise_matcher(value)


Matcher = Annotated[Any, BeforeValidator(_matcher)]
"""A plain value (equality) or an operator map such as {exists: true} or {">=": 3}."""


class Extraction(Model):
    """Where a value comes from; exactly one source. `secret: true` masks it everywhere."""

    json_path: str | None = Field(default=None, alias="json")
    header: str | None = None
    regex: str | None = None
    group: int | str = 1
    secret: bool = False
    default: Any = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_source(self) -> Extraction:
        sources = [s for s in (self.json_path, self.header, self.regex) if s is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one of json, header or regex")
        if self.json_path is not None:
            from wfmon.runner.jsonpaths import compile_path

            compile_path(self.json_path)
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"invalid regex: {exc}") from exc
        return self


class ExpectBase(Model):
    """Checks every step type understands."""

    max_duration: Duration | None = None


class StepBase(Model):
    """Fields every step has. Each step type subclasses this with `type: Literal[...]`."""

    name: str = Field(pattern=STEP_NAME)
    description: str | None = None
    timeout: Duration | None = None
    always_run: bool = False
    extract: dict[str, Extraction] = Field(default_factory=dict)

    # Values a step produces without an `extract:` entry (templates may read them).
    # None means "anything": the step returns arbitrary keys (python steps).
    builtin_outputs: ClassVar[frozenset[str] | None] = frozenset({"duration_ms"})
    # Built-in values stored with every result (not only when extracted): facts that rules
    # judge later, such as a certificate's days to expiry.
    recorded_outputs: ClassVar[frozenset[str]] = frozenset()
    default_timeout: ClassVar[float] = 10.0

    @property
    def effective_timeout(self) -> float:
        return self.timeout if self.timeout is not None else self.default_timeout

    def output_names(self) -> frozenset[str] | None:
        if self.builtin_outputs is None:
            return None
        return self.builtin_outputs | frozenset(self.extract)

    async def run(self, ctx: StepContext) -> StepOutcome:
        """Run the step once. Each step type implements this."""
        raise NotImplementedError
