"""Silences: which alerts a silence covers, and whether it is in force at `now` (pure).

A recurring silence is in force from each of its cron slots (in its time zone, with the
scheduler's DST rules) for `duration_s`. Matching: every non-empty matcher list must match
(workflow names as globs, tags, locations), so `workflows: [checkout-*], locations: [eu]`
covers checkout workflows in eu only. An alert about wfmon itself (no workflow) is covered
only by a silence without workflow, tag or location matchers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from wfmon.domain.alert import Silence
from wfmon.domain.workflow import Schedule
from wfmon.scheduler.cron import latest_slot


def matches(
    silence: Silence, workflow: str | None, location: str | None, tags: Sequence[str]
) -> bool:
    if workflow is None:
        return not (silence.workflows or silence.tags or silence.locations)
    if silence.workflows and not any(fnmatchcase(workflow, p) for p in silence.workflows):
        return False
    if silence.tags and not any(tag in silence.tags for tag in tags):
        return False
    return not (silence.locations and (location or "") not in silence.locations)


def window_at(silence: Silence, now: datetime) -> tuple[datetime, datetime] | None:
    """The window of `silence` that `now` is in, as (start, end), or None."""
    if silence.expired_at is not None and silence.expired_at <= now:
        return None
    if silence.cron is not None and silence.duration_s:
        start = latest_slot(Schedule(cron=silence.cron, timezone=silence.timezone), now)
        if start is None:
            return None
        end = start + timedelta(seconds=silence.duration_s)
    elif silence.starts_at is not None and silence.ends_at is not None:
        start, end = silence.starts_at, silence.ends_at
    else:
        return None
    if silence.expired_at is not None:
        end = min(end, silence.expired_at)
    return (start, end) if start <= now < end else None


def covering(
    silences: Sequence[Silence],
    workflow: str | None,
    location: str | None,
    tags: Sequence[str],
    now: datetime,
) -> Silence | None:
    """The first silence in force at `now` that covers the subject."""
    for silence in silences:
        if matches(silence, workflow, location, tags) and window_at(silence, now) is not None:
            return silence
    return None


def finished(silence: Silence, now: datetime) -> bool:
    """A one-off silence whose end has passed, or one expired by hand: it never comes back."""
    if silence.expired_at is not None and silence.expired_at <= now:
        return True
    return silence.cron is None and silence.ends_at is not None and silence.ends_at <= now
