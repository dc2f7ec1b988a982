"""The alert rules as written in config: one model per kind, a union on `kind`.

Each rule has a `name` (default: its kind) that names the alert (`name:workflow`) and lets
a tag or a workflow override an inherited rule; a `severity` with a default per kind; and
`enabled`, to switch an inherited rule off. The thresholds' defaults are the documented
ones (docs/alerting.md): changing one here changes behaviour for everybody.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from wfmon.config.base import Duration, Model
from wfmon.domain.alert import Severity

RULE_NAME = r"^[A-Za-z0-9_.-]{1,60}$"


class RuleBase(Model):
    name: str | None = Field(default=None, pattern=RULE_NAME)
    enabled: bool = True
    severity: Severity = Severity.CRITICAL

    @model_validator(mode="after")
    def _thresholds(self) -> RuleBase:
        # `{kind: latency, enabled: false}` switches an inherited rule off without
        # restating its threshold; an enabled one needs it.
        if self.enabled and getattr(self, "threshold", 0.0) is None:
            raise ValueError(f"{getattr(self, 'kind', 'this rule')} needs a threshold")
        return self

    @property
    def key(self) -> str:
        """The rule's name: what overrides match on and what dedup keys start with."""
        return self.name or str(getattr(self, "kind", "rule"))


class ConsecutiveFailures(RuleBase):
    """`failures` failed runs in a row fire; `recoveries` successes in a row resolve."""

    kind: Literal["consecutive_failures"]
    failures: int = Field(default=2, ge=1, le=100)
    recoveries: int = Field(default=2, ge=1, le=100)


class FailureRate(RuleBase):
    """At least `failures` failed runs within `window`: for journeys that flicker."""

    kind: Literal["failure_rate"]
    failures: int = Field(default=3, ge=1, le=1000)
    window: Duration = 900.0
    recoveries: int = Field(default=2, ge=1, le=100)
    severity: Severity = Severity.WARNING


class Latency(RuleBase):
    """The workflow's (or one step's) duration over `threshold` for `runs` runs in a row."""

    kind: Literal["latency"]
    threshold: Duration | None = None  # required while enabled
    step: str | None = None
    runs: int = Field(default=3, ge=1, le=100)
    recoveries: int = Field(default=2, ge=1, le=100)
    severity: Severity = Severity.DEGRADED


class LatencyPercentile(RuleBase):
    """The `percentile` (nearest rank) of durations within `window` over `threshold`."""

    kind: Literal["latency_p95"]
    threshold: Duration | None = None  # required while enabled
    step: str | None = None
    window: Duration = 900.0
    percentile: float = Field(default=95.0, gt=0, le=100)
    min_runs: int = Field(default=5, ge=1, le=10_000)
    severity: Severity = Severity.DEGRADED


class TlsExpiry(RuleBase):
    """A certificate (read by a `tls` step with `expect.min_days_valid`) expiring soon."""

    kind: Literal["tls_expiry"]
    days: float = Field(default=14.0, ge=0)
    step: str | None = None
    severity: Severity = Severity.WARNING


class NoExecutions(RuleBase):
    """Dead man's switch: a scheduled slot with no execution `grace` after it (plus the
    workflow's jitter and timeout)."""

    kind: Literal["no_executions"]
    grace: Duration = 300.0


class Anomaly(RuleBase):
    """An `anomaly.detected` event from analytics; resolved by `anomaly.resolved` or when
    no anomaly came for `clear_after`."""

    kind: Literal["anomaly"]
    min_score: float = 0.0
    clear_after: Duration = 3600.0
    severity: Severity = Severity.WARNING


RuleSpec = Annotated[
    ConsecutiveFailures
    | FailureRate
    | Latency
    | LatencyPercentile
    | TlsExpiry
    | NoExecutions
    | Anomaly,
    Field(discriminator="kind"),
]
RULE_MODELS: tuple[type[RuleBase], ...] = (
    ConsecutiveFailures,
    FailureRate,
    Latency,
    LatencyPercentile,
    TlsExpiry,
    NoExecutions,
    Anomaly,
)
RULE_KINDS = (
    "consecutive_failures",
    "failure_rate",
    "latency",
    "latency_p95",
    "tls_expiry",
    "no_executions",
    "anomaly",
)
# Rules evaluated when an execution is recorded; the others run on the periodic check
# (no_executions) or on analytics events (anomaly).
EXECUTION_KINDS = frozenset(
    {"consecutive_failures", "failure_rate", "latency", "latency_p95", "tls_expiry"}
)


def default_rules() -> list[RuleBase]:
    """What every workflow gets unless `alerts.rules` says otherwise."""
    return [
        ConsecutiveFailures(kind="consecutive_failures"),
        NoExecutions(kind="no_executions"),
        TlsExpiry(kind="tls_expiry"),
        Anomaly(kind="anomaly"),
    ]
