"""Incidents: failures across workflows with one probable common cause.

Failures share a cause when they hit the same target host and either got the same error
status (every 503 from the shop while its login is down, whichever journey met it) or,
without an error status, have the same error signature (connection resets, timeouts, a
duration limit exceeded everywhere during a slowdown). An incident stays open while such
failures keep coming within `gap_s` of each other, and names its cause the way an operator
would say it: "POST /api/auth/login returns 503 in user-login, registration and
order-placement since 05:02; first seen in user-login".

`IncidentTracker` is streaming (the Analyzer feeds it each failure as it is recorded);
`group` runs it over a history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from wfmon.analytics.signatures import Failure

DEFAULT_GAP_S = 3600.0  # a journey run hourly still keeps its incident open
MIN_FAILURES = 2  # one failure is a blip, not an incident


@dataclass(frozen=True)
class Incident:
    key: str  # stable id: host|cause|first failure time
    host: str
    cause: str  # 'status 503' or an error signature
    started_at: datetime
    last_at: datetime
    failures: int
    workflows: tuple[str, ...]  # in the order they were first hit
    endpoints: tuple[str, ...]
    steps: tuple[str, ...]
    example: str | None
    ended_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    def describe(self) -> str:
        """'POST /api/auth/login returns 503 in user-login and registration since 05:02;
        first seen in user-login'."""
        if len(self.endpoints) == 1 and self.endpoints[0]:
            where = self.endpoints[0]
        elif self.endpoints:
            shown = ", ".join(self.endpoints[:3]) + (", …" if len(self.endpoints) > 3 else "")
            where = f"{self.host or 'the target'} ({len(self.endpoints)} endpoints: {shown})"
        else:
            where = self.host or "the target"
        what = (
            f"returns {self.cause.removeprefix('status ')}"
            if self.cause.startswith("status ")
            else f"fails with '{self.cause}'"
        )
        names = _and(self.workflows)
        text = f"{where} {what} in {names} since {self.started_at:%H:%M} UTC"
        if len(self.workflows) > 1:
            text += f"; first seen in {self.workflows[0]}"
        return text


def _and(names: tuple[str, ...]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _add(values: tuple[str, ...], value: str) -> tuple[str, ...]:
    return values if not value or value in values else (*values, value)


class IncidentTracker:
    """Open incidents by cause; feed it failures in time order."""

    def __init__(self, gap_s: float = DEFAULT_GAP_S) -> None:
        self.gap = timedelta(seconds=gap_s)
        self._open: dict[tuple[str, str], Incident] = {}
        self.closed: list[Incident] = []

    def observe(self, failure: Failure) -> Incident:
        """The incident this failure belongs to, after counting it."""
        self.close_stale(failure.at)
        key = failure.cause_key
        current = self._open.get(key)
        if current is None:
            current = Incident(
                key=f"{key[0]}|{key[1]}|{failure.at.isoformat()}",
                host=key[0],
                cause=key[1],
                started_at=failure.at,
                last_at=failure.at,
                failures=1,
                workflows=(failure.workflow,),
                endpoints=_add((), failure.endpoint),
                steps=_add((), failure.step),
                example=failure.error,
            )
        else:
            current = replace(
                current,
                last_at=max(current.last_at, failure.at),
                failures=current.failures + 1,
                workflows=_add(current.workflows, failure.workflow),
                endpoints=_add(current.endpoints, failure.endpoint),
                steps=_add(current.steps, failure.step),
            )
        self._open[key] = current
        return current

    def close_stale(self, now: datetime) -> list[Incident]:
        """Close incidents with no failure for `gap`; the ones closed now."""
        ended = []
        for key, incident in list(self._open.items()):
            if now - incident.last_at > self.gap:
                del self._open[key]
                done = replace(incident, ended_at=incident.last_at)
                self.closed.append(done)
                ended.append(done)
        return ended

    def open_incidents(self) -> list[Incident]:
        return sorted(self._open.values(), key=lambda i: i.started_at)


def group(failures: Iterable[Failure], gap_s: float = DEFAULT_GAP_S) -> list[Incident]:
    """Every incident in a history of failures (time order), oldest first; singletons
    included (filter on `failures >= MIN_FAILURES` to show incidents only)."""
    tracker = IncidentTracker(gap_s)
    for failure in failures:
        tracker.observe(failure)
    return sorted([*tracker.closed, *tracker.open_incidents()], key=lambda i: i.started_at)
