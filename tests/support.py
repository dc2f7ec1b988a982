"""Types shared by tests (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from wfmon.domain.workflow import Workflow

WorkflowsFromText = Callable[..., list[Workflow]]


@dataclass
class Lab:
    """A loopback server with endpoints for the engine's edge cases."""

    base_url: str
    port: int
    hits: dict[str, int] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)
