"""A workflow as the rest of the system sees it, once its config has been validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wfmon.config.base import StepBase


@dataclass(frozen=True)
class Schedule:
    """When a workflow runs: a cron expression in a time zone, or a fixed interval."""

    cron: str | None = None
    every_s: float | None = None
    timezone: str = "UTC"

    def describe(self) -> str:
        if self.every_s is not None:
            return f"every {self.every_s:g}s"
        return f"cron {self.cron} ({self.timezone})"


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of the whole workflow: `attempts` more tries after the first, with backoff."""

    attempts: int = 0
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    on: frozenset[str] = frozenset({"error", "timeout", "failed"})


@dataclass(frozen=True)
class Workflow:
    name: str
    steps: tuple[StepBase, ...]
    schedule: Schedule
    description: str = ""
    tags: tuple[str, ...] = ()
    timeout_s: float = 60.0
    retries: RetryPolicy = field(default_factory=RetryPolicy)
    locations: tuple[str, ...] = ("local",)
    vars: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    public: bool = False
    catch_up: str = "one"  # what runs after downtime: one | none | all | all(max N)
    jitter_s: float = 0.0  # the most a slot's start may be delayed (stable per workflow)
    concurrency: int = 1  # runs of this workflow that may overlap
    keep_responses: str = "failures"  # response headers and body kept: failures | always
    version: str = ""  # a hash of the definition: changes when the config does
    source: str = ""  # "file:line" where it is defined
    definition: Mapping[str, Any] = field(default_factory=dict)  # as written, for storage/API
