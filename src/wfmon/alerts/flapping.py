"""Flapping: a workflow whose outcome keeps flipping between success and failure.

Counted from the runs themselves, not from alert states: a journey alternating F/S never
fires a two-in-a-row rule, yet it is exactly what an on-call engineer needs to hear about,
once. While its flapping alert is open, the workflow's other alerts still change state
(and record events) but send nothing; when it settles, what changed meanwhile goes out.
Hysteresis: more than `changes` flips in the window to start, at most `changes // 2` to
settle, so a workflow on the edge does not flap in and out of flapping.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

from wfmon.alerts.config import FlappingSpec
from wfmon.alerts.facts import Finding, Run
from wfmon.domain.alert import Verdict
from wfmon.status.words import duration_words

RULE = "flapping"


def flips(runs: Sequence[Run], since: datetime) -> int:
    """How often consecutive runs started at or after `since` differ in outcome."""
    outcomes = [r.failed for r in runs if r.started_at >= since]
    return sum(1 for a, b in itertools.pairwise(outcomes) if a != b)


def judge(spec: FlappingSpec, runs: Sequence[Run], now: datetime, *, is_open: bool) -> Finding:
    window = timedelta(seconds=spec.window)
    count = flips(runs, now - window)
    recent = [r for r in runs if r.started_at >= now - window]
    words = f"changed between success and failure {count} times in the last "
    words += duration_words(spec.window)
    if count > spec.changes:
        return _finding(spec, Verdict.FAILING, "flapping", words, recent)
    if is_open and count > spec.changes // 2:
        return _finding(spec, Verdict.UNKNOWN, "still_unsettled", words, recent)
    return _finding(spec, Verdict.OK, "settled", words, recent)


def _finding(
    spec: FlappingSpec, verdict: Verdict, reason: str, message: str, runs: Sequence[Run]
) -> Finding:
    since = runs[-1].started_at if runs else None
    facts: dict[str, object] = {"runs": len(runs)}
    if since is not None:
        facts["since"] = since.isoformat()
    if runs:
        facts["execution_id"] = runs[0].id
    return Finding(
        rule=RULE,
        kind=RULE,
        severity=spec.severity,
        verdict=verdict,
        reason=reason,
        message=message,
        execution_ids=tuple(r.id for r in runs[:20]),
        since=since,
        runs=len(runs),
        facts=facts,
    )
