"""Scheduling: slot maths (cron), the missed-slot policy (catchup), plain words (describe)."""

from __future__ import annotations

from wfmon.scheduler.catchup import (
    DEFAULT_CATCH_UP,
    CatchUpPlan,
    CatchUpPolicy,
    parse_catch_up,
    plan_catch_up,
)
from wfmon.scheduler.cron import (
    due_slots,
    iter_slots,
    jitter_offset,
    latest_slot,
    next_slot,
    slots_between,
    start_at,
    validate_cron,
    validate_schedule,
    validate_timezone,
)
from wfmon.scheduler.describe import describe_schedule

__all__ = [
    "DEFAULT_CATCH_UP",
    "CatchUpPlan",
    "CatchUpPolicy",
    "describe_schedule",
    "due_slots",
    "iter_slots",
    "jitter_offset",
    "latest_slot",
    "next_slot",
    "parse_catch_up",
    "plan_catch_up",
    "slots_between",
    "start_at",
    "validate_cron",
    "validate_schedule",
    "validate_timezone",
]
