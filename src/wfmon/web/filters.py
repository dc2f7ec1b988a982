"""The executions page's filters: read leniently from the query string, written back into
links (the next page, a status chip) the same way.

A page is not an API: a bad value is ignored and reported on the page ("since: not a time
or a duration"), and the rest of the filters still apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi.exceptions import RequestValidationError

from wfmon.api.params import decode_cursor, parse_time
from wfmon.domain.run import ExecutionStatus

STATUSES = tuple(s.value for s in ExecutionStatus)
SINCE_CHOICES = ("1h", "24h", "7d", "30d")
LIMITS = (25, 50, 100, 200)
DEFAULT_LIMIT = 50
MAX_TEXT = 120


@dataclass(frozen=True)
class ExecutionFilters:
    workflow: str = ""
    statuses: tuple[str, ...] = ()
    location: str = ""
    since: str = ""
    until: str = ""
    cursor: str = ""
    limit: int = DEFAULT_LIMIT
    # Parsed, for the query (None: no bound).
    since_at: datetime | None = None
    until_at: datetime | None = None
    before_id: int | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def active(self) -> bool:
        return bool(self.workflow or self.statuses or self.location or self.since or self.until)

    def params(self, **changes: Any) -> dict[str, Any]:
        """The query parameters of these filters, with `changes` (e.g. cursor=...)."""
        values: dict[str, Any] = {
            "workflow": self.workflow,
            "status": list(self.statuses),
            "location": self.location,
            "since": self.since,
            "until": self.until,
            "limit": self.limit if self.limit != DEFAULT_LIMIT else "",
            "cursor": self.cursor,
        }
        values.update(changes)
        return values


def _message(error: RequestValidationError) -> str:
    errors = error.errors()
    return str(errors[0].get("msg", "invalid")) if errors else "invalid"


def _text(value: str | None) -> str:
    text = (value or "").strip()
    return text if 0 < len(text) <= MAX_TEXT and text.isprintable() else ""


def parse_filters(
    query: Mapping[str, str], statuses: Sequence[str], now: datetime
) -> ExecutionFilters:
    """Filters from a page's query string (`statuses`: every `status` given)."""
    problems: list[str] = []
    wanted = tuple(dict.fromkeys(s for s in statuses if s in STATUSES))
    if len(wanted) != len(set(statuses)):
        problems.append(f"status: use {', '.join(STATUSES)}")
    texts: dict[str, str] = {}
    times: dict[str, datetime | None] = {}
    for name in ("since", "until"):
        texts[name] = (query.get(name) or "").strip()[:64]
        try:
            times[name] = parse_time(texts[name], name, now)
        except RequestValidationError as error:
            problems.append(f"{name}: {_message(error)}")
            texts[name], times[name] = "", None
    cursor = (query.get("cursor") or "").strip()[:200]
    try:
        before = decode_cursor(cursor)
    except RequestValidationError:
        problems.append("that page link is not valid any more: showing the newest")
        cursor, before = "", None
    try:
        limit = int(query.get("limit") or DEFAULT_LIMIT)
    except ValueError:
        limit = DEFAULT_LIMIT
    return ExecutionFilters(
        workflow=_text(query.get("workflow")),
        statuses=wanted,
        location=_text(query.get("location")),
        since=texts["since"],
        until=texts["until"],
        since_at=times["since"],
        until_at=times["until"],
        cursor=cursor,
        before_id=before,
        limit=limit if limit in LIMITS else DEFAULT_LIMIT,
        problems=tuple(problems),
    )
