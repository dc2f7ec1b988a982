"""Schedules in plain words, for `wfmon status` and the dashboard."""

from __future__ import annotations

from functools import lru_cache

from cron_descriptor import ExpressionDescriptor, FormatError, MissingFieldError, Options

from wfmon.domain.workflow import Schedule

_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
_UTC_NAMES = frozenset({"UTC", "Etc/UTC"})


def describe_schedule(schedule: Schedule) -> str:
    """E.g. "every 15 minutes", "every 30 seconds", "at 02:30 (Europe/Berlin)".

    Cron times are in the schedule's time zone, named unless it is UTC; intervals are
    anchored to the Unix epoch, so no zone applies to them.
    """
    if schedule.every_s is not None:
        return describe_interval(schedule.every_s)
    if schedule.cron is not None:
        text = describe_cron(schedule.cron)
        if schedule.timezone not in _UTC_NAMES:
            text += f" ({schedule.timezone})"
        return text
    return "not scheduled"


def describe_interval(every_s: float) -> str:
    """ "every hour", "every 15 minutes", "every 90 seconds": the largest whole unit."""
    for unit, size in _UNITS:
        if every_s >= size and every_s % size == 0:
            count = every_s / size
            return f"every {unit}" if count == 1 else f"every {count:g} {unit}s"
    return f"every {every_s:g} seconds"


@lru_cache(maxsize=1024)
def describe_cron(expr: str) -> str:
    """A cron expression in words, starting lower-case: "every 15 minutes", "at 02:30"."""
    # Pin the locale and the 24-hour clock: the defaults come from the host's locale, and a
    # status line should not change language (or warn) with the server it runs on.
    options = Options(locale_code="en_US", use_24hour_time_format=True)
    try:
        text = ExpressionDescriptor(expr, options).get_description()
    except (FormatError, MissingFieldError) as exc:
        return f"cron {expr} ({exc})"
    return text[:1].lower() + text[1:] if text else f"cron {expr}"
