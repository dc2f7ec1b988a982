"""What to do with slots that came due while the scheduler was down: the catch-up policy.

Pure: given the due slots (from `cron.due_slots`) and a policy, decide which to run and which
to record as missed, with a named reason. Nothing is dropped silently: every due slot ends up
in exactly one of `run` and `missed`, so the history shows each slot's fate.

Policies, as written in config (`catch_up:`):

* ``one`` (default): run the most recent due slot, record the rest missed. After an outage
  you get one fresh result at once, not a burst of stale ones.
* ``none``: run nothing late; every slot that came due while down is recorded missed, and the
  schedule carries on with the next slot. A slot that is merely a little late (the loop woke up
  a few milliseconds after it) is not "missed while down": pass `now` and it runs if it is
  within `grace_s`.
* ``all``: run every due slot (oldest first). ``all(max N)``: run the N most recent, record the
  older ones missed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

CatchUpMode = Literal["one", "none", "all"]
_MODES: tuple[CatchUpMode, ...] = ("one", "none", "all")

DEFAULT_GRACE_S = 60.0

# The named reasons a plan gives (log them as `reason=`).
NOTHING_DUE = "nothing_due"
RAN_ALL_DUE = "ran_all_due"  # nothing missed: the usual on-time case, or policy `all`
RAN_LATEST = "ran_latest"  # `one` or `all(max N)` ran the most recent, the rest missed
SKIPPED_LATE = "skipped_late"  # `none`: the late slots were recorded missed

_ALL_MAX = re.compile(r"all\s*\(\s*max(?:\s*=\s*|\s+)(\d+)\s*\)")
_FORMS = "'one', 'none', 'all' or 'all(max N)'"


@dataclass(frozen=True)
class CatchUpPolicy:
    """How to handle slots missed while down; `str()` gives the config text back."""

    mode: CatchUpMode = "one"
    max_runs: int | None = None  # only with mode "all": run at most this many (the newest)

    def __post_init__(self) -> None:
        if self.mode not in _MODES:
            raise ValueError(f"unknown catch-up mode {self.mode!r}: use {_FORMS}")
        if self.max_runs is not None and (self.mode != "all" or self.max_runs < 1):
            raise ValueError("max_runs goes only with mode 'all' and must be at least 1")

    @property
    def run_limit(self) -> int | None:
        """The most slots one plan may run; None means no limit."""
        if self.mode == "one":
            return 1
        if self.mode == "none":
            return 0
        return self.max_runs

    def __str__(self) -> str:
        if self.mode == "all" and self.max_runs is not None:
            return f"all(max {self.max_runs})"
        return self.mode


DEFAULT_CATCH_UP = CatchUpPolicy()
_PLAIN = {mode: CatchUpPolicy(mode=mode) for mode in _MODES}


def parse_catch_up(text: str) -> CatchUpPolicy:
    """Parse the config form: 'one', 'none', 'all' or 'all(max N)' (case and spaces free)."""
    cleaned = text.strip().lower()
    if cleaned in _PLAIN:
        return _PLAIN[cleaned]
    match = _ALL_MAX.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"unknown catch-up policy {text!r}: use {_FORMS}")
    limit = int(match.group(1))
    if limit < 1:
        raise ValueError(f"catch-up policy {text!r} runs nothing: use 'none' for that")
    return CatchUpPolicy(mode="all", max_runs=limit)


@dataclass(frozen=True)
class CatchUpPlan:
    """Which due slots to run and which to record missed (both oldest first), and why."""

    run: tuple[datetime, ...]
    missed: tuple[datetime, ...]
    reason: str


def plan_catch_up(
    due: Sequence[datetime],
    policy: CatchUpPolicy = DEFAULT_CATCH_UP,
    *,
    now: datetime | None = None,
    grace_s: float = DEFAULT_GRACE_S,
) -> CatchUpPlan:
    """Split `due` into slots to run and slots to record missed, by `policy`.

    Always `sorted(run + missed) == sorted(due)`. `now` and `grace_s` matter only to policy
    `none`: without `now` every due slot counts as late; with it, the most recent due slot
    still runs if it is at most `grace_s` old.
    """
    ordered = tuple(sorted(due))
    if not ordered:
        return CatchUpPlan(run=(), missed=(), reason=NOTHING_DUE)
    limit = policy.run_limit
    if policy.mode == "none":
        on_time = now is not None and now - ordered[-1] <= timedelta(seconds=grace_s)
        limit = 1 if on_time else 0
    keep = len(ordered) if limit is None else min(limit, len(ordered))
    split = len(ordered) - keep
    run, missed = ordered[split:], ordered[:split]
    if not missed:
        reason = RAN_ALL_DUE
    elif policy.mode == "none":
        reason = SKIPPED_LATE
    else:
        reason = RAN_LATEST
    return CatchUpPlan(run=run, missed=missed, reason=reason)
