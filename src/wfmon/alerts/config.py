"""Alerting config: `alerts:` (rules and their defaults), `channels:`, `silences:` at the
top of a config file, and `alerts:` inside a workflow.

Rules are inherited, most general first: `alerts.rules` (or the built-in defaults), then
`alerts.tags.<tag>.rules` for each tag of the workflow (in the order the tags are written
under `alerts.tags`), then the workflow's own `alerts.rules`. A rule replaces an inherited
one of the same name; `enabled: false` switches one off.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo

import orjson
from pydantic import Field, field_validator, model_validator

from wfmon.alerts.notifiers import CHANNEL_KINDS, ChannelBase
from wfmon.alerts.rulespecs import RULE_MODELS, RuleBase, RuleSpec, default_rules
from wfmon.config.base import Duration, Model
from wfmon.config.templates import env_names, iter_strings
from wfmon.config.yamlpos import Parsed
from wfmon.domain.alert import Severity
from wfmon.domain.workflow import Workflow
from wfmon.errors import ConfigProblem
from wfmon.scheduler.cron import validate_cron, validate_timezone

DEFAULT_DASHBOARD = "http://127.0.0.1:8080"


class FlappingSpec(Model):
    """A workflow whose outcome flips (success ↔ failure) more than `changes` times within
    `window` is flapping: one notice, then its alerts stay quiet until it settles (at
    most `changes / 2` flips in the window)."""

    enabled: bool = True
    changes: int = Field(default=5, ge=2, le=1000)
    window: Duration = 3600.0
    severity: Severity = Severity.WARNING


class GroupingSpec(Model):
    """Notices for one channel and group key within `window` go out as one message."""

    window: Duration = 30.0  # 0: every notice on its own, at once
    by: Literal["host", "workflow", "rule", "severity", "all"] = "host"


class OutboxSpec(Model):
    """Retries of a notification: exponential from `backoff` (±25% jitter) up to
    `max_backoff`, honouring Retry-After; dead after `max_age` of trying."""

    backoff: Duration = 5.0
    max_backoff: Duration = 600.0
    max_age: Duration = 86400.0
    claim: Duration = 120.0  # a sender's hold on a row; longer than any send may take


class HeartbeatSpec(Model):
    """Dead man's switch for wfmon itself: no heartbeat row for `max_silence`."""

    enabled: bool = True
    max_silence: Duration = 900.0
    severity: Severity = Severity.CRITICAL


class TagAlerts(Model):
    rules: list[RuleSpec] = Field(default_factory=list)


class AlertsSpec(Model):
    """`alerts:` at the top of a config file (in at most one file)."""

    enabled: bool = True
    dashboard_url: str = DEFAULT_DASHBOARD
    rules: list[RuleSpec] = Field(default_factory=lambda: list(default_rules()))  # type: ignore[arg-type]  # the union's members
    tags: dict[str, TagAlerts] = Field(default_factory=dict)
    reopen_within: Duration = 1800.0  # fires again within this of resolving: same alert
    remind_every: Duration = 14400.0  # 0: no reminders
    flapping: FlappingSpec = FlappingSpec()
    grouping: GroupingSpec = GroupingSpec()
    outbox: OutboxSpec = OutboxSpec()
    heartbeat: HeartbeatSpec = HeartbeatSpec()
    templates: Path | None = None  # a directory of templates that replace the built-in ones


class WorkflowAlertsSpec(Model):
    """`alerts:` inside a workflow."""

    enabled: bool = True
    rules: list[RuleSpec] = Field(default_factory=list)
    group: str | None = None  # the group key for grouping (default: per alerts.grouping.by)


class SilenceSpec(Model):
    """One silence: (`start`, `end`), or `cron` + `duration` in `timezone`."""

    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,80}$")
    workflows: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    cron: str | None = None
    duration: Duration | None = None
    timezone: str = "UTC"
    author: str = "config"
    comment: str = ""

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None:
            validate_cron(v)
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        validate_timezone(v)
        return v

    @model_validator(mode="after")
    def _window(self) -> SilenceSpec:
        one_off = self.start is not None or self.end is not None
        recurring = self.cron is not None or self.duration is not None
        if one_off == recurring:
            raise ValueError("give either start and end, or cron and duration")
        if one_off and (self.start is None or self.end is None):
            raise ValueError("a one-off silence needs both start and end")
        if recurring and (self.cron is None or not self.duration):
            raise ValueError("a recurring silence needs both cron and a duration above 0")
        if one_off and self.starts_at() >= self.ends_at():  # type: ignore[operator]
            raise ValueError("end must be after start")
        return self

    def starts_at(self) -> datetime | None:
        return _aware(self.start, self.timezone)

    def ends_at(self) -> datetime | None:
        return _aware(self.end, self.timezone)


def _aware(value: datetime | None, zone: str) -> datetime | None:
    """A time written without an offset is read in the silence's time zone."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return value.astimezone(UTC)


def _channel_union() -> Any:
    models = tuple(CHANNEL_KINDS.values())
    return Annotated[Union[models], Field(discriminator="kind")]  # noqa: UP007


# Pydantic validates against the union of registered kinds; to mypy it is the base class.
if TYPE_CHECKING:
    ChannelSpec = ChannelBase
else:
    ChannelSpec = _channel_union()


# Every alerting model, for the loader's "did you mean" hints on unknown keys.
MODELS: list[Any] = [
    AlertsSpec,
    WorkflowAlertsSpec,
    SilenceSpec,
    FlappingSpec,
    GroupingSpec,
    OutboxSpec,
    HeartbeatSpec,
    *RULE_MODELS,
    *CHANNEL_KINDS.values(),
]


# -- resolution -------------------------------------------------------------------------


def workflow_alerts(workflow: Workflow) -> WorkflowAlertsSpec:
    """The workflow's own `alerts:`; validated when the config was loaded."""
    return _workflow_alerts(workflow.definition.get("alerts"))


@lru_cache(maxsize=4096)
def _parsed(raw: str) -> WorkflowAlertsSpec:
    return WorkflowAlertsSpec.model_validate(orjson.loads(raw))


def _workflow_alerts(raw: Any) -> WorkflowAlertsSpec:
    # Read from the definition as written rather than a new field on `Workflow`: the domain
    # object stays free of alerting, and the text is parsed once per distinct definition.
    if not raw:
        return WorkflowAlertsSpec()
    return _parsed(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS).decode())


def rules_for(spec: AlertsSpec, workflow: Workflow) -> tuple[RuleBase, ...]:
    """The rules that apply to `workflow`, in order, overrides applied, disabled ones out.

    Asked for every recorded run (several times): remembered per workflow object for the
    latest spec asked about (both immutable); another spec (a reloaded config) starts
    afresh, so no old config is kept alive."""
    global _RULES_SPEC  # a one-spec memo, replaced with the config
    if spec is not _RULES_SPEC:
        _RULES.clear()
        _RULES_SPEC = spec
    hit = _RULES.get(id(workflow))
    if hit is not None and hit[0] is workflow:
        return hit[1]
    rules = _merged_rules(spec, workflow)
    _RULES[id(workflow)] = (workflow, rules)
    return rules


_RULES_SPEC: AlertsSpec | None = None
_RULES: dict[int, tuple[Workflow, tuple[RuleBase, ...]]] = {}


def _merged_rules(spec: AlertsSpec, workflow: Workflow) -> tuple[RuleBase, ...]:
    own = workflow_alerts(workflow)
    if not spec.enabled or not own.enabled:
        return ()
    merged: dict[str, RuleBase] = {}
    layers: list[list[RuleBase]] = [list(spec.rules)]
    layers += [list(spec.tags[tag].rules) for tag in spec.tags if tag in workflow.tags]
    layers.append(list(own.rules))
    for layer in layers:
        for rule in layer:
            merged.pop(rule.key, None)  # a replaced rule takes its new place in the order
            merged[rule.key] = rule
    return tuple(rule for rule in merged.values() if rule.enabled)


# -- checks that need more than one field (reported with file:line) -----------------------


def check(
    file: Path,
    parsed: Parsed,
    data: Mapping[str, Any],
    environ: Mapping[str, str] | None,
) -> list[ConfigProblem]:
    """Problems the models cannot see: duplicate channel names, unknown step names in
    rules, `${env:...}` in channels that is not set."""
    problems: list[ConfigProblem] = []

    def problem(path: tuple[str | int, ...], message: str, hint: str | None = None) -> None:
        line, col = parsed.locate(path)
        problems.append(ConfigProblem(str(file), line, col, _dotted(path), message, hint))

    channels = data.get("channels")
    if isinstance(channels, list):
        seen: set[str] = set()
        for index, channel in enumerate(channels):
            name = channel.get("name") if isinstance(channel, dict) else None
            if isinstance(name, str) and name in seen:
                problem(("channels", index, "name"), f"duplicate channel name {name!r}")
            if isinstance(name, str):
                seen.add(name)
        if environ is not None:
            for path, text in iter_strings(channels, ("channels",)):
                for env, has_default in env_names(text):
                    if not has_default and env not in environ:
                        problem(
                            path,
                            f"environment variable {env} is not set",
                            f"export {env}=..., or give a default: ${{env:{env}:-value}}",
                        )
    workflows = data.get("workflows")
    for index, item in enumerate(workflows if isinstance(workflows, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("alerts"), dict):
            continue
        steps = {s.get("name") for s in item.get("steps") or [] if isinstance(s, dict)}
        rules = item["alerts"].get("rules")
        for r, rule in enumerate(rules if isinstance(rules, list) else []):
            step = rule.get("step") if isinstance(rule, dict) else None
            if isinstance(step, str) and step not in steps:
                known = ", ".join(sorted(str(s) for s in steps)) or "none"
                path = ("workflows", index, "alerts", "rules", r, "step")
                problem(path, f"no step named {step!r} in this workflow", f"steps: {known}")
    return problems


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out
