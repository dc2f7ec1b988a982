"""What a step sees while it runs, and what it hands back to the engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp

from wfmon.clock import Clock
from wfmon.config.templates import Renderer
from wfmon.domain.run import AssertionResult, Timings
from wfmon.httpclient import HttpClientFactory
from wfmon.redact import Redactor


@dataclass(frozen=True)
class EngineLimits:
    max_response_bytes: int = 1024 * 1024  # read at most this much of a body
    max_stored_body: int = 64 * 1024  # keep at most this much of it in the result
    max_redirects: int = 5


@dataclass
class StepContext:
    """One execution's shared state: rendered templates, secrets, connections, outputs."""

    workflow: str
    location: str
    slot_at: datetime
    renderer: Renderer
    redactor: Redactor
    session: aiohttp.ClientSession
    http: HttpClientFactory
    clock: Clock
    limits: EngineLimits
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    keep_responses: str = "failures"

    def secret(self, value: Any) -> None:
        """Mark a value secret: masked in everything stored or printed from now on."""
        self.redactor.add(value)


@dataclass
class StepOutcome:
    """What a step type reports. The engine derives the status and masks secrets."""

    timings: Timings = field(default_factory=Timings)
    assertions: list[AssertionResult] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)  # raw: templates of later steps
    secret_outputs: set[str] = field(default_factory=set)
    error: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    response_status: int | None = None
    response_headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None  # as read (up to the read cap); the engine keeps an excerpt
    body_truncated: bool = False
    redirects: list[str] = field(default_factory=list)
