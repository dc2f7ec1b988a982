"""What every channel kind shares: its config fields, routing, and the send contract.

A channel kind is one module with one class: a `ChannelBase` subclass with
`kind: Literal["..."]`, its own fields, and `async def send(message, ctx) -> Delivery`,
which returns what the receiver answered or raises `NotifierError(permanent=...)`.
The config schema builds its union from the registry (`notifiers/__init__.py`), and the
contract tests run every registered kind through the same cases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from wfmon.clock import Clock
from wfmon.config.base import Duration, Model
from wfmon.config.templates import ENV_REF
from wfmon.domain.alert import Severity
from wfmon.errors import NotifierError

if TYPE_CHECKING:
    import aiohttp

    from wfmon.alerts.messages import Message

CHANNEL_NAME = r"^[A-Za-z0-9_.-]{1,60}$"
ANSWER_LIMIT = 500  # characters of the receiver's answer kept in the outbox row


@dataclass(frozen=True)
class Delivery:
    """The receiver accepted the message: its status code (if it has one) and answer."""

    status: int | None
    answer: str


@dataclass
class SendContext:
    """What a send may use. `environ` resolves `${env:NAME}` in channel fields at send
    time, so secrets never sit in the loaded config, the database or a log line."""

    http: aiohttp.ClientSession
    environ: Mapping[str, str]
    clock: Clock
    timeout_s: float = 30.0


class ChannelBase(Model):
    name: str = Field(pattern=CHANNEL_NAME)
    # Routing: which alerts this channel gets. Empty `tags` means every workflow.
    severities: tuple[Severity, ...] = tuple(Severity)
    tags: tuple[str, ...] = ()
    timeout: Duration = 30.0

    # Fields whose values are secrets (masked in `wfmon notify test` output and errors).
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    def routes(self, severity: Severity, tags: Sequence[str]) -> bool:
        """Whether an alert of this severity, on a workflow with these tags, comes here."""
        if severity not in self.severities:
            return False
        return not self.tags or any(tag in self.tags for tag in tags)

    async def send(self, message: Message, ctx: SendContext) -> Delivery:
        """Deliver one message; raise NotifierError saying whether a retry can help."""
        raise NotImplementedError


def resolve_env(text: str, environ: Mapping[str, str]) -> str:
    """`${env:NAME}` / `${env:NAME:-default}` filled in from `environ`.

    A variable that is not set is a permanent failure: sending again cannot set it.
    """

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = environ.get(name, default)
        if value is None:
            raise NotifierError(f"environment variable {name} is not set", permanent=True)
        return value

    return ENV_REF.sub(sub, text)


def masked(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret value replaced, for errors and answers we store."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def excerpt(text: str, limit: int = ANSWER_LIMIT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# HTTP answers a retry can fix: timeouts, rate limits and server errors. Every other 4xx
# (a bad token, a deleted webhook, a malformed request) fails the same way next time.
TRANSIENT_STATUS = frozenset({408, 425, 429})


def http_is_permanent(status: int) -> bool:
    return 400 <= status < 500 and status not in TRANSIENT_STATUS


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now_epoch)


def channel_fields(channel: ChannelBase) -> dict[str, Any]:
    """The channel's config with secret fields masked (for `notify test` and logs)."""
    data = channel.model_dump(mode="json")
    for name in channel.secret_fields:
        if data.get(name):
            data[name] = "***"
    return data
