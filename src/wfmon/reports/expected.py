"""How many slots a schedule had in a period: what "executions as scheduled" compares to."""

from __future__ import annotations

from datetime import datetime, timedelta

from wfmon.domain.workflow import Schedule
from wfmon.scheduler.cron import EPOCH, slots_between

# A cron schedule is walked slot by slot; this bounds the walk (a year of every minute).
MAX_CRON_SLOTS = 600_000
_MICROSECOND = timedelta(microseconds=1)


def count_slots(schedule: Schedule, after: datetime, until: datetime) -> int:
    """The number of slots in (after, until], as `slots_between` would list them.

    Intervals are counted arithmetically (they are whole multiples of the interval since
    the epoch, see scheduler/cron.py): a month of every-second slots is not walked.
    """
    if until <= after:
        return 0
    if schedule.every_s is not None and schedule.cron is None:
        interval = round(schedule.every_s * 1_000_000)
        if interval <= 0:
            raise ValueError(f"every_s must be positive, not {schedule.every_s}")
        return _us(until) // interval - _us(after) // interval
    return len(slots_between(schedule, after, until, limit=MAX_CRON_SLOTS))


def _us(when: datetime) -> int:
    return (when - EPOCH) // _MICROSECOND
