"""Times and durations in the few words an operator reads at a glance."""

from __future__ import annotations

from datetime import UTC, datetime


def duration_words(seconds: float) -> str:
    """ "45 s", "12 min", "3 h 5 min", "2 d 4 h": two units at most, rounded down."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def ago(when: datetime, now: datetime) -> str:
    """ "12 min ago", or "in 3 min" for a time still ahead."""
    delta = (now - when).total_seconds()
    if delta < 0:
        return f"in {duration_words(-delta)}"
    return f"{duration_words(delta)} ago"


def clock_time(when: datetime, now: datetime) -> str:
    """ "05:02 UTC" on the day of `now`, else "2026-03-01 05:02 UTC".

    UTC on purpose: the same words whatever the host's zone, matching the logs.
    """
    when, now = when.astimezone(UTC), now.astimezone(UTC)
    if when.date() == now.date():
        return when.strftime("%H:%M UTC")
    return when.strftime("%Y-%m-%d %H:%M UTC")


def percent(ratio: float | None, digits: int = 1) -> str:
    """ "99.5%", or "-" when there is nothing to divide."""
    return "-" if ratio is None else f"{ratio * 100:.{digits}f}%"


def millis(value: float | None) -> str:
    """ "850 ms", "1.2 s", or "-"."""
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms"
