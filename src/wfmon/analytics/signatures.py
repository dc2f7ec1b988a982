"""Failures reduced to what they have in common: a signature for the error text (ids,
numbers and timestamps stripped, by the same rules as the report's failure reasons) and
where it happened (target host, method and path with ids stripped)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from wfmon.analytics.runs import RunFacts
from wfmon.reports.failures import normalise_error

# Path segments that are ids: numbers, UUIDs, long hex or base64-ish tokens.
_ID_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|"
    r"(?=[0-9a-z_-]*\d)[0-9a-z_-]{16,})$",
    re.I,
)


def signature(error: str | None) -> str:
    """The error text with ids, times and numbers replaced: 'order 4711 not found' and
    'order 4712 not found' share one signature."""
    return normalise_error(error)


def endpoint(method: str | None, url: str | None) -> tuple[str, str]:
    """(host, 'METHOD /path') with id segments replaced by {id}; ('', '') without a URL."""
    if not url:
        return "", ""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2] or parts.path  # tcp://host:port has a netloc
    segments = ["{id}" if _ID_SEGMENT.match(s) else s for s in parts.path.split("/")]
    path = "/".join(segments) if parts.scheme in ("http", "https") else ""
    verb = (method or "GET").upper()
    return host, f"{verb} {path or '/'}" if path or parts.scheme.startswith("http") else verb


@dataclass(frozen=True)
class Failure:
    """One failed run, reduced to its first failed step and where it failed."""

    workflow: str
    step: str
    at: datetime
    signature: str
    host: str
    endpoint: str  # 'POST /api/auth/login'
    status: int | None  # the HTTP status the step got, when it got one
    error: str | None  # the original text, for the example

    @property
    def cause_key(self) -> tuple[str, str]:
        """What failures must share to have one cause: the host and either the status it
        answered or, without a status change, the error's signature."""
        return self.host, f"status {self.status}" if self.status else self.signature


def failure_of(run: RunFacts) -> Failure | None:
    """The failure of a failed run; None for successes and runs that did not run."""
    if not run.failed:
        return None
    step = run.failed_step
    if step is None:
        return Failure(run.workflow, "", run.at, signature(run.error), "", "", None, run.error)
    host, where = endpoint(step.method, step.url)
    # A status is a cause only when it is an error answer; a 200 with a wrong body or a slow
    # one is an assertion failure, grouped by its signature.
    status = step.response_status if step.response_status and step.response_status >= 400 else None
    return Failure(
        run.workflow, step.name, run.at, signature(step.error), host, where, status, step.error
    )
