"""Failures grouped by reason: error texts with their ids, times and numbers normalised, so
"order 4711 not found" and "order 4712 not found" are one reason, counted together."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from wfmon.domain.run import ExecutionStatus
from wfmon.storage.stats import ErrorCount

MAX_REASON = 300  # characters: a reason is a label, the example keeps the detail
NO_TEXT = "(no error text)"

_EDGE = r"(?<![0-9A-Za-z]){}(?![0-9A-Za-z])"
_PATTERNS = (
    # Order matters: the larger shapes go first, before their digits are replaced.
    (
        re.compile(
            _EDGE.format(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), re.I
        ),
        "<id>",
    ),
    (
        re.compile(
            r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
        ),
        "<time>",
    ),
    # Hex ids and tokens: 8+ hex characters with both a digit and a letter...
    (re.compile(_EDGE.format(r"(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}"), re.I), "<id>"),
    # ...or 16+ characters of letters, digits, - and _ with a digit (session ids, base64).
    (re.compile(_EDGE.format(r"(?=[0-9A-Za-z_-]*\d)[0-9A-Za-z_-]{16,}")), "<id>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
)


@dataclass(frozen=True)
class FailureGroup:
    """Executions of one workflow that ended in one status for one normalised reason."""

    status: ExecutionStatus
    reason: str
    count: int
    last_at: datetime
    example: str | None  # the most recent original text


def normalise_error(text: str | None) -> str:
    """The error text with ids, times and numbers replaced by <id>, <time> and <n>."""
    if not text or not text.strip():
        return NO_TEXT
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    text = text.strip()
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def group_failures(rows: Iterable[ErrorCount]) -> dict[str, tuple[FailureGroup, ...]]:
    """Per workflow, its failure groups, the most frequent first (then the most recent)."""
    merged: dict[tuple[str, ExecutionStatus, str], FailureGroup] = {}
    for row in rows:
        key = (row.workflow, row.status, normalise_error(row.error))
        seen = merged.get(key)
        if seen is None:
            merged[key] = FailureGroup(row.status, key[2], row.count, row.last_at, row.error)
            continue
        newer = row.last_at > seen.last_at
        merged[key] = FailureGroup(
            row.status,
            key[2],
            seen.count + row.count,
            row.last_at if newer else seen.last_at,
            row.error if newer else seen.example,
        )
    grouped: dict[str, list[FailureGroup]] = {}
    for (workflow, _, _), group in merged.items():
        grouped.setdefault(workflow, []).append(group)
    return {
        workflow: tuple(sorted(groups, key=lambda g: (-g.count, -g.last_at.timestamp(), g.reason)))
        for workflow, groups in grouped.items()
    }
