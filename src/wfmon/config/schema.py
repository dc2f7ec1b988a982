"""The config file's models. Step types come from the registry as a discriminated union."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, WithJsonSchema, field_validator, model_validator

from wfmon.alerts.config import AlertsSpec, ChannelSpec, SilenceSpec, WorkflowAlertsSpec
from wfmon.config.base import Duration, Model
from wfmon.scheduler.cron import validate_cron, validate_timezone

WORKFLOW_NAME = r"^[^\x00-\x1f\x7f]{1,120}$"  # any printable text; shown escaped everywhere
OUTCOMES = Literal["failed", "error", "timeout"]


def check_cron(expr: str) -> str:
    validate_cron(expr)
    return expr


def check_timezone(name: str) -> str:
    validate_timezone(name)
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
    on: tuple[OUTCOMES, ...] = ("failed", "error", "timeout")


def _retries(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"attempts": value}
    return value


# Written as text or a number in YAML, normalised by before-validators: the exported JSON
# Schema must accept both spellings, or editors would flag valid files.
ScheduleField = Annotated[
    ScheduleSpec,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": "a cron expression"},
                ScheduleSpec.model_json_schema(),
            ]
        }
    ),
]
RetryField = Annotated[
    RetrySpec,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "description": "attempts"},
                RetrySpec.model_json_schema(),
            ]
        }
    ),
]


def check_catch_up(text: str) -> str:
    from wfmon.scheduler.catchup import parse_catch_up

    parse_catch_up(text)
    return text


class DefaultsSpec(Model):
    timeout: Duration = 60.0
    retries: RetryField = RetrySpec()
    catch_up: str = "one"
    jitter: Duration = 0.0
    concurrency: int = Field(default=1, ge=1, le=100)
    keep_responses: Literal["failures", "always"] = "failures"

    @field_validator("catch_up")
    @classmethod
    def _c(cls, v: str) -> str:
        return check_catch_up(v)

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
    steps_type: Any = list[step_union()]  # type: ignore[misc]  # built from the registry

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
        catch_up: str | None = None  # after downtime: one | none | all | all(max N)
        jitter: Duration | None = None  # spread start times by up to this, per workflow
        concurrency: int | None = Field(default=None, ge=1, le=100)  # overlapping runs
        # Response headers and body excerpts are stored for failed steps only, unless
        # `always`: a month of every-minute successes would otherwise be mostly bodies.
        keep_responses: Literal["failures", "always"] | None = None
        alerts: WorkflowAlertsSpec | None = None  # rules for this workflow (docs/alerting.md)
        steps: steps_type = Field(min_length=1)

        @field_validator("catch_up")
        @classmethod
        def _c(cls, v: str | None) -> str | None:
            return check_catch_up(v) if v is not None else v

        @field_validator("schedule", mode="before")
        @classmethod
        def _s(cls, v: Any) -> Any:
            return _schedule(v)

        @field_validator("retries", mode="before")
        @classmethod
        def _r(cls, v: Any) -> Any:
            return _retries(v)

    return WorkflowSpec


class DaemonSpec(Model):
    """How `wfmon run` behaves (see docs/daemon.md)."""

    max_concurrency: int = Field(default=64, ge=1, le=10_000)
    grace: Duration = 30.0  # on SIGTERM: how long in-flight runs may finish
    health_interval: Duration = 300.0  # self health checks
    health_url: str | None = None  # the target application's health endpoint
    report_interval: Duration = 3600.0  # 0 turns the hourly report off
    disk_min_free_mb: int = Field(default=500, ge=0)
    lag_warn: Duration = 5.0  # scheduler lag p99 above this fails its health check
    watch: bool = True  # reload when the config file changes


class RootSpec(Model):
    """The top of a config file. Workflows are validated one by one (see loader)."""

    version: Literal[1] = 1
    vars: dict[str, Any] = Field(default_factory=dict)
    defaults: DefaultsSpec = DefaultsSpec()
    daemon: DaemonSpec = DaemonSpec()
    alerts: AlertsSpec = AlertsSpec()  # rules, reminders, grouping (docs/alerting.md)
    channels: list[ChannelSpec] = Field(default_factory=list)
    silences: list[SilenceSpec] = Field(default_factory=list)
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
