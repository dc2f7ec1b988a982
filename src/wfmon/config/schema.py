"""The config file's models. Step types come from the registry as a discriminated union."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, TypeAdapter, WithJsonSchema, field_validator, model_validator

from wfmon.config.base import Duration, Model

WORKFLOW_NAME = r"^[^\x00-\x1f\x7f]{1,120}$"  # any printable text; shown escaped everywhere
OUTCOMES = Literal["failed", "error", "timeout"]


def check_cron(expr: str) -> str:
    from datetime import UTC, datetime

    from cronsim import CronSim, CronSimError

    if len(expr.split()) != 5:
        raise ValueError(
            f"{expr!r} is not a cron expression: it needs 5 fields "
            "(minute hour day-of-month month day-of-week), e.g. '*/15 * * * *'"
        )
    try:
        CronSim(expr, datetime(2026, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ValueError(f"{expr!r} is not a valid cron expression: {exc}") from exc
    return expr


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC"
        ) from exc
    return name


class ScheduleSpec(Model):
    cron: str | None = None
    every: Duration | None = None
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        return check_cron(v) if v is not None else v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return check_timezone(v)

    @field_validator("every")
    @classmethod
    def _every(cls, v: float | None) -> float | None:
        if v is not None and v < 1:
            raise ValueError("the shortest interval is 1s")
        return v

    @model_validator(mode="after")
    def _one(self) -> ScheduleSpec:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of cron or every")
        return self


def _schedule(value: Any) -> Any:
    if isinstance(value, str):
        return {"cron": value}
    return value


class RetrySpec(Model):
    attempts: int = Field(default=0, ge=0, le=10)
    backoff: Duration = 1.0
    max_backoff: Duration = 30.0
    on: list[OUTCOMES] = Field(default_factory=lambda: ["failed", "error", "timeout"])


def _retries(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"attempts": value}
    return value


# Written as text or a number in YAML, normalised by before-validators: the exported JSON
# Schema must accept both spellings, or editors would flag valid files.
ScheduleField = Annotated[
    ScheduleSpec,
    WithJsonSchema(
        {"anyOf": [{"type": "string", "description": "a cron expression"},
                   ScheduleSpec.model_json_schema()]}
    ),
]
RetryField = Annotated[
    RetrySpec,
    WithJsonSchema(
        {"anyOf": [{"type": "integer", "minimum": 0, "description": "attempts"},
                   RetrySpec.model_json_schema()]}
    ),
]


class DefaultsSpec(Model):
    timeout: Duration = 60.0
    retries: Annotated[RetryField, Field(default_factory=RetrySpec)]
    locations: list[str] = Field(default_factory=lambda: ["local"], min_length=1)

    @field_validator("retries", mode="before")
    @classmethod
    def _r(cls, v: Any) -> Any:
        return _retries(v)


@cache
def step_union() -> Any:
    """Annotated[Union[every registered step model], discriminator 'type']."""
    from wfmon.runner.steps import STEP_TYPES

    models = tuple(STEP_TYPES.values())
    return Annotated[Union[models], Field(discriminator="type")]  # noqa: UP007


@cache
def workflow_model() -> type[Model]:
    steps_type = list[step_union()]  # type: ignore[misc]  # built from the registry at run time

    class WorkflowSpec(Model):
        """One workflow as written in YAML."""

        name: str = Field(pattern=WORKFLOW_NAME)
        description: str = ""
        tags: list[str] = Field(default_factory=list)
        schedule: ScheduleField
        timeout: Duration | None = None
        retries: RetryField | None = None
        locations: list[str] | None = Field(default=None, min_length=1)
        vars: dict[str, Any] = Field(default_factory=dict)
        enabled: bool = True
        public: bool = False
        steps: steps_type = Field(min_length=1)  # type: ignore[valid-type]

        @field_validator("schedule", mode="before")
        @classmethod
        def _s(cls, v: Any) -> Any:
            return _schedule(v)

        @field_validator("retries", mode="before")
        @classmethod
        def _r(cls, v: Any) -> Any:
            return _retries(v)

    return WorkflowSpec


class RootSpec(Model):
    """The top of a config file. Workflows are validated one by one (see loader)."""

    version: Literal[1] = 1
    vars: dict[str, Any] = Field(default_factory=dict)
    defaults: DefaultsSpec = Field(default_factory=DefaultsSpec)
    workflows: list[Any] = Field(default_factory=list)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a config file, for editors (yaml-language-server)."""
    workflow = workflow_model()

    class ConfigFile(RootSpec):
        workflows: list[workflow] = Field(default_factory=list)  # type: ignore[valid-type]

    schema = TypeAdapter(ConfigFile).json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "wfmon configuration"
    return schema
